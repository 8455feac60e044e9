"""The dashboard's plain-words opening and its "What to change" section.

The opening leads with the sentences a busy reader understands (journeys/evaluation/plain_words.py);
the interval and the test behind each are one click away, in a details element. "What to change"
is the L&D lead's edited text or the draft from the evidence; edited text is typed, so escaped.
"""

from __future__ import annotations

from bot.dashboard.escape import esc
from bot.services.recommendations import Recommendations
from journeys.evaluation.plain_words import (
    Pooled,
    factor_details,
    factor_sentence,
    impact_details,
    pooled_basis,
)
from journeys.evaluation.recommendations import HEADING
from journeys.evaluation.success_case import Evaluation, difference_words


def plain_section(ev: Evaluation, headline: list[str], pooled: Pooled | None) -> str:
    details = [impact_details(ev)]
    if ev.support_diff is not None:
        details.append(f"Supported ({ev.lost.supported}) vs unsupported ({ev.lost.unsupported}) people: "
                       f"{difference_words(ev.support_diff)}.")
    details += [factor_details(f) for f in ev.factors]
    pooled_html = ""
    if pooled is not None:
        basis = pooled_basis(pooled)
        pooled_html = (f"<p>Manager support, {esc(basis)}:</p><ul>"
                       + "".join(f"<li>{esc(factor_sentence(f, pooled.min_group))}</li>" for f in pooled.factors)
                       + "</ul>")
        details += [f"Pooled — {factor_details(f)}" for f in pooled.factors]
    return ('<section class="wide" aria-labelledby="h-plain"><h2 id="h-plain">In plain words</h2>'
            + "".join(f"<p>{esc(line)}</p>" for line in headline) + pooled_html
            + "<details><summary>The intervals and tests behind these sentences</summary><ul>"
            + "".join(f"<li>{esc(d)}</li>" for d in details) + "</ul></details></section>")


def changes_section(rec: Recommendations) -> str:
    source = "edited by the L&D lead" if rec.edited else "drafted from the evidence; the L&D lead may edit it"
    return ('<section class="wide" aria-labelledby="h-change">'
            f'<h2 id="h-change">{esc(HEADING)}</h2><p class="muted">{esc(source)}</p><ul>'
            + "".join(f"<li>{esc(line)}</li>" for line in rec.plain_lines()) + "</ul></section>")
