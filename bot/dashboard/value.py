"""The dashboard's opening section: the PPP's business goal, self-reported next to verified impact,
the estimated value with its basis, and what was lost (the same words as the chat report)."""

from __future__ import annotations

from bot.dashboard.escape import esc
from journeys.definition import Journey
from journeys.evaluation.cohorts import CohortFigures, comparison_lines
from journeys.evaluation.interviews import Verified
from journeys.evaluation.success_case import Evaluation, Rate
from journeys.evaluation.value import BusinessValue, money, ppp_lines


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{round(x * 100)}%"


def _cells(r: Rate) -> list[str]:
    if r.value is None:
        return ["–", f"0 of {r.total}", "–"]
    return [_pct(r.value), f"{r.count} of {r.total}", f"{_pct(r.low)}–{_pct(r.high)}"]


def business_section(journey: Journey, ev: Evaluation, verified: Verified, value: BusinessValue) -> str:
    lines = ppp_lines(journey, ev, verified, value)
    goal, rest = lines[0], lines[1:]
    rows = [("Self-reported in the survey", ev.impact)]
    if verified.interviewed:
        rows.append((f"Verified in {verified.interviewed} interview{'s' if verified.interviewed != 1 else ''}",
                     verified.impact))
    body = "".join(f'<tr><th scope="row">{esc(name)}</th>'
                   + "".join(f'<td class="n">{esc(c)}</td>' for c in _cells(r)) + "</tr>" for name, r in rows)
    table = ('<div class="scroll" role="region" aria-label="Self-reported and verified impact" tabindex="0">'
             "<table><caption>Impact rate: self-reported and verified, of survey respondents</caption>"
             '<thead><tr><th scope="col">Source</th><th scope="col" class="n">Impact rate</th>'
             '<th scope="col" class="n">Success cases</th><th scope="col" class="n">95% CI</th></tr></thead>'
             f"<tbody>{body}</tbody></table></div>")
    items = "".join(f"<li>{esc(line)}</li>" for line in rest if not line.startswith("Impact —"))
    return ('<section class="wide" aria-labelledby="h-ppp"><h2 id="h-ppp">Business goal and value</h2>'
            f"<p><strong>{esc(goal)}</strong></p>{table}<ul class=\"summary\">{items}</ul></section>")


def cohorts_section(title: str, cohorts: list[CohortFigures]) -> str:
    """Cohorts of the journey over time: impact with intervals, verified impact and value."""
    if len(cohorts) < 2:
        return ""
    rows = []
    for c in cohorts:
        i = c.impact
        cells = [esc(c.name), f"{c.start:%d %b %Y}" if c.start else "–",
                 *(_cells(i)[:2] if i.value is not None else ["–", f"0 of {i.total}"]),
                 _cells(i)[2],
                 _pct(c.verified.value) if c.verified is not None else "–",
                 esc(money(c.value, c.currency)) if c.value is not None and c.currency else "–"]
        rows.append(f'<tr><th scope="row">{cells[0]}</th>' + "".join(
            f'<td class="n">{x}</td>' for x in cells[1:]) + "</tr>")
    head = "".join(f'<th scope="col"{" class=n" if k else ""}>{h}</th>' for k, h in enumerate(
        ("Cohort", "Started", "Impact rate", "Success cases", "95% CI", "Verified", "Estimated value")))
    change = comparison_lines(title, cohorts)[-1]
    note = f"<p>{esc(change)}</p>" if change.startswith("Change") else ""
    return ('<section class="wide" aria-labelledby="h-cohorts"><h2 id="h-cohorts">Cohorts over time</h2>'
            '<div class="scroll" role="region" aria-label="Cohorts over time table" tabindex="0">'
            f"<table><caption>Recent cohorts of {esc(title)}, newest first</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>{note}</section>")
