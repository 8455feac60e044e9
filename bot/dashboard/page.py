"""The dashboard page as server-rendered HTML: inline CSS and SVG only, no scripts, no external
assets. Admins may see names of participants and of the managers a prompt waits on, never answer
texts or reflections."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlencode

from bot.dashboard.escape import esc
from bot.dashboard.links import Claims
from bot.dashboard.plain import changes_section, plain_section
from bot.dashboard.value import business_section, cohorts_section
from bot.dashboard.view import CohortView, WeekRow
from journeys.evaluation.barriers import BARRIER_LABELS
from journeys.evaluation.success_case import (
    Rate,
    baseline_words,
    difference_words,
    summary_lines,
)


def pct(x: float | None) -> str:
    return "–" if x is None else f"{round(x * 100)}%"


CSS = """
:root{--ink:#1b1f24;--muted:#4a5360;--line:#c9d1db;--bg:#f5f7fa;--card:#fff;--accent:#0b57a4;
--accent2:#7aa7d9;--good:#1d6b36;--warn:#8a4b00;--bad:#a4161a}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
color:var(--ink);background:var(--bg)}
a{color:var(--accent)}
a:focus-visible,[tabindex]:focus-visible{outline:3px solid #f2b705;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px}
header{background:#0d2a4a;color:#fff;padding:16px 20px}
header h1{margin:0;font-size:1.5rem;line-height:1.25}
header p{margin:4px 0 0;color:#dbe6f3}
main{max-width:1100px;margin:0 auto;padding:16px}
nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:8px}
nav a{display:inline-block;padding:6px 12px;border:1px solid var(--accent);border-radius:999px;
background:#fff;text-decoration:none;min-height:44px;line-height:30px}
nav a[aria-current=page]{background:var(--accent);color:#fff;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr));gap:16px;margin-top:16px}
.wide{grid-column:1/-1}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px;min-width:0}
section h2{margin:0 0 8px;font-size:1.15rem}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:16px 0 0;
padding:0;list-style:none}
.kpis li{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px}
.kpis .v{display:block;font-size:1.8rem;font-weight:700;line-height:1.2}
.kpis .l{color:var(--muted);font-size:.9rem}
svg{display:block;width:100%;height:auto;max-width:560px}
svg text{font-family:system-ui,"DejaVu Sans",sans-serif;fill:var(--ink)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.95rem}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
tbody th{white-space:nowrap}table.stack tbody th{white-space:normal}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.hidden-grp{color:var(--warn);font-style:italic}
.muted{color:var(--muted)}
details summary{cursor:pointer;color:var(--accent);margin-top:8px}
.bar{display:inline-block;height:12px;background:var(--accent);border-radius:2px;vertical-align:middle}
ul.summary{padding-left:20px;margin:0}
footer{max-width:1100px;margin:0 auto;padding:8px 16px 24px;color:var(--muted);font-size:.875rem}
@media (max-width:560px){main{padding:10px}header{padding:12px}header h1{font-size:1.3rem}
.kpis{grid-template-columns:1fr 1fr}.kpis .v{font-size:1.5rem}th,td{padding:5px 4px}
table.stack thead{position:absolute;left:-9999px}
table.stack,table.stack tbody,table.stack tr,table.stack th,table.stack td{display:block;width:100%}
table.stack tr{border:1px solid var(--line);border-radius:6px;margin:0 0 8px;padding:4px 8px}
table.stack th,table.stack td{border:0;padding:2px 0;text-align:left}
table.stack caption{display:block;width:100%}
table.stack td::before{content:attr(data-label) ": ";font-weight:600;color:var(--muted)}}
"""

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
}


def page(title: str, body: str) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="robots" content="noindex">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>{body}</body></html>")


def refused_page(reason: str) -> str:
    body = (f'<header><h1>Dashboard link refused</h1></header><main><section role="alert">'
            f"<h2>Access denied (403)</h2><p>{esc(reason)}</p>"
            f'<p class="muted">Dashboard links are personal and expire. In Slack type '
            f"<code>/journey dashboard</code>, in Teams send <code>dashboard</code> to the bot.</p>"
            f"</section></main>")
    return page("Access denied — HPLJ dashboard", body)


def funnel_svg(weeks: list[WeekRow], total: int) -> str:
    w, label_h, bar_h, gap, bar_x, bar_w = 360, 18, 15, 10, 4, 250
    rows_h = label_h + 2 * (bar_h + 3) + gap
    height = max(1, len(weeks)) * rows_h + 24
    scale = bar_w / max(1, total)
    out = [f'<svg viewBox="0 0 {w} {height}" role="img" aria-labelledby="funnel-t funnel-d">',
           '<title id="funnel-t">Participants answering each journey week</title>',
           (f'<desc id="funnel-d">For each week, of {total} participants: how many answered at least one '
           "question (dark bar) and how many answered every question they were sent (light bar). "
           "The table below lists the same figures.</desc>")]
    out.append(f'<rect x="{bar_x}" y="2" width="12" height="12" fill="#0b57a4"/>'
               f'<text x="{bar_x + 16}" y="12" font-size="11">answered some</text>'
               f'<rect x="{bar_x + 120}" y="2" width="12" height="12" fill="#7aa7d9"/>'
               f'<text x="{bar_x + 136}" y="12" font-size="11">answered all</text>')
    y = 24
    for r in weeks:
        out.append(f'<text x="{bar_x}" y="{y + 13}" font-size="13" font-weight="600">{esc(r.label)}'
                   f'<tspan font-weight="400" fill="#4a5360"> · '
                   f'{f"{r.asked} of {total} asked" if r.asked else "no questions this week"}</tspan></text>')
        for i, (n, colour) in enumerate(((r.answered, "#0b57a4"), (r.completed, "#7aa7d9"))):
            by = y + label_h + i * (bar_h + 3)
            bw = max(2.0, n * scale) if n else 0
            out.append(f'<rect x="{bar_x}" y="{by}" width="{w - bar_x - 40}" height="{bar_h}" fill="#eef2f7"/>')
            if bw:
                out.append(f'<rect x="{bar_x}" y="{by}" width="{bw:.1f}" height="{bar_h}" fill="{colour}"/>')
            out.append(f'<text x="{bar_x + bw + 5:.1f}" y="{by + 12}" font-size="12">{n}</text>')
        y += rows_h
    out.append("</svg>")
    return "".join(out)


def interval_svg(impact: Rate, baseline: float, target: float) -> str:
    w, h, x0, x1 = 360, 120, 16, 344

    def x(v: float) -> float:
        return x0 + (x1 - x0) * v

    desc = (f"Impact rate {pct(impact.value)} ({impact.count} of {impact.total}), 95% confidence "
            f"interval {pct(impact.low)} to {pct(impact.high)}; industry baseline {pct(baseline)}, "
            f"target {pct(target)}.")
    out = [f'<svg viewBox="0 0 {w} {h}" role="img" aria-labelledby="ci-t ci-d">',
           '<title id="ci-t">Impact rate with its 95% confidence interval</title>',
           f'<desc id="ci-d">{esc(desc)}</desc>',
           f'<line x1="{x0}" y1="78" x2="{x1}" y2="78" stroke="#4a5360" stroke-width="1"/>']
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        out.append(f'<line x1="{x(t):.1f}" y1="74" x2="{x(t):.1f}" y2="82" stroke="#4a5360"/>'
                   f'<text x="{x(t):.1f}" y="98" font-size="11" text-anchor="middle">{pct(t)}</text>')
    for v, name, colour, anchor_y in ((baseline, "baseline", "#8a4b00", 14), (target, "target", "#1d6b36", 14)):
        out.append(f'<line x1="{x(v):.1f}" y1="20" x2="{x(v):.1f}" y2="84" stroke="{colour}" '
                   f'stroke-width="2" stroke-dasharray="4 3"/>'
                   f'<text x="{x(v):.1f}" y="{anchor_y}" font-size="11" text-anchor="middle" '
                   f'fill="{colour}">{name} {pct(v)}</text>')
    if impact.value is not None and impact.low is not None and impact.high is not None:
        out.append(f'<line x1="{x(impact.low):.1f}" y1="52" x2="{x(impact.high):.1f}" y2="52" '
                   f'stroke="#0b57a4" stroke-width="8" stroke-linecap="round" opacity="0.45"/>'
                   f'<circle cx="{x(impact.value):.1f}" cy="52" r="7" fill="#0b57a4" stroke="#fff" '
                   f'stroke-width="2"/>'
                   f'<text x="{x(impact.value):.1f}" y="40" font-size="13" font-weight="700" '
                   f'text-anchor="middle">{pct(impact.value)}</text>'
                   f'<text x="{w / 2}" y="116" font-size="11" text-anchor="middle" fill="#4a5360">'
                   f'95% CI {pct(impact.low)}–{pct(impact.high)}</text>')
    else:
        out.append(f'<text x="{w / 2}" y="52" font-size="12" text-anchor="middle">no survey answers yet</text>')
    out.append("</svg>")
    return "".join(out)


def _table(caption: str, head: list[tuple[str, bool]], rows: list[list[str]], label: str,
           *, stack: bool = False) -> str:
    """An accessible table; `stack` lays each row out as a labelled card on phone widths (the ARIA
    roles keep the table semantics when CSS changes the display)."""
    ths = "".join(f'<th scope="col" role="columnheader"{" class=n" if num else ""}>{esc(h)}</th>'
                  for h, num in head)
    body = "".join('<tr role="row">' + "".join(
        (f'<th scope="row" role="rowheader" data-label="{esc(head[0][0])}">{c}</th>' if i == 0 else
         f'<td role="cell" data-label="{esc(head[i][0])}"{" class=n" if head[i][1] else ""}>{c}</td>')
        for i, c in enumerate(r)) + "</tr>" for r in rows)
    cls = ' class="stack"' if stack else ""
    return (f'<div class="scroll" role="region" aria-label="{esc(label)}" tabindex="0">'
            f'<table role="table"{cls}><caption>{esc(caption)}</caption><thead><tr role="row">{ths}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def render_dashboard(view: CohortView, cohorts: list[str], nav_query: Mapping[str, str], claims: Claims,
                     now: datetime) -> str:
    ev = view.evaluation
    links = []
    for c in cohorts:
        q = urlencode({**nav_query, "cohort": c})
        cur = ' aria-current="page"' if c == view.cohort else ""
        links.append(f'<li><a href="/dashboard?{esc(q)}"{cur}>{esc(c)}</a></li>')
    nav = f'<nav aria-label="Cohorts"><h2 class="skip">Cohorts</h2><ul>{"".join(links)}</ul></nav>'
    header = (f'<a class="skip" href="#main">Skip to content</a><header><h1>{esc(view.title)} — cohort '
              f"{esc(view.cohort)}</h1><p>Learning journey dashboard · figures as of "
              f"{now:%a %d %b %Y %H:%M} UTC</p></header>")
    parts = [header, f'<main id="main">{nav}']
    if ev is None:
        parts.append(f"<section><h2>No data</h2><p>No cohort named {esc(view.cohort)}.</p></section></main>")
        return page(f"{view.cohort} — HPLJ dashboard", "".join(parts))
    i = ev.impact
    kpis = [
        (pct(i.value), f"impact rate ({i.count} of {i.total} success cases)"),
        (f"{ev.completed} of {ev.participants}", f"answered the Success Case survey ({pct(ev.completion.value)})"),
        (pct(ev.application.value), f"moments that matter happened ({ev.mtms_happened} of {ev.mtms_planned})"),
        (str(len(view.stuck)), f"prompts stuck {view.stuck_after}+ working days"),
    ]
    parts.append(plain_section(ev, view.headline, view.pooled))
    parts.append('<ul class="kpis" aria-label="Key figures">' + "".join(
        f'<li><span class="v">{esc(v)}</span><span class="l">{esc(lbl)}</span></li>' for v, lbl in kpis) + "</ul>")
    parts.append('<div class="grid">')
    if view.business is not None and view.journey is not None:
        parts.append(business_section(view.journey, ev, *view.business))
    parts.append(cohorts_section(view.title, view.cohorts))

    # Impact
    verdict = ""
    if i.value is not None:
        e = ev.impact_enrolled
        versus = baseline_words(ev)
        verdict = (f"<p>{esc(pct(i.value))} of survey respondents ({i.count} of {i.total}) applied the "
                   f"learning with a worthwhile result; the journey's target is {pct(ev.target)}"
                   f"{' (reached)' if ev.target_met else ' (not reached yet)'}.</p>"
                   + (f"<p>Of everyone enrolled: {esc(pct(e.value))} ({e.count} of {e.total}), counting "
                      f"the {ev.non_response} without a usable survey answer as not successful.</p>"
                      if ev.non_response else "")
                   + (f"<p>Impact is {esc(versus)}.</p>" if versus else ""))
        if ev.responded_scm < ev.min_group:
            verdict += f'<p class="muted">Fewer than {ev.min_group} answers: read the rate as an early signal.</p>'
    classes = [[esc(k.replace("_", " ")), str(n)] for k, n in ev.classes.items()]
    parts.append(f'<section aria-labelledby="h-impact"><h2 id="h-impact">Impact rate</h2>{verdict}'
                 f"{interval_svg(i, ev.baseline, ev.target)}"
                 f"<details><summary>Survey answers by outcome</summary>"
                 f"{_table('Respondents by outcome', [('Outcome', False), ('People', True)], classes, 'Outcomes')}"
                 f"</details></section>")

    # Funnel
    if view.weeks:
        wrows = [[esc(r.label), str(r.asked), str(r.answered), str(r.completed)] for r in view.weeks]
        funnel = funnel_svg(view.weeks, view.participants) + _table(
            f"Participants per journey week (of {view.participants})",
            [("Week", False), ("Asked", True), ("Answered some", True), ("Answered all", True)], wrows,
            "Weekly funnel table")
    else:
        funnel = "<p>No questions have been sent yet.</p>"
    parts.append(f'<section aria-labelledby="h-funnel"><h2 id="h-funnel">Journey funnel by week</h2>{funnel}'
                 "</section>")

    # Manager support
    frows = []
    for f in ev.factors:
        sizes = f"{f.with_.total} / {f.without.total}"
        if f.diff is None:
            reason = (f"group &lt; {ev.min_group}" if f.hidden_because == "small"
                      else "a group answered alike")
            hidden = f'<span class="hidden-grp">hidden: {reason}</span>'
            frows.append([esc(f.name), hidden, hidden, "–", sizes])
        else:
            frows.append([esc(f.name), f"{pct(f.with_.value)} ({f.with_.count} of {f.with_.total})",
                          f"{pct(f.without.value)} ({f.without.count} of {f.without.total})",
                          esc(difference_words(f.diff)), sizes])
    lost = ev.lost
    lost_txt = ""
    if view.business is None and not lost.suppressed and lost.non_success_unsupported:
        lost_txt = (f"<p><strong>What was lost:</strong> {lost.non_success_unsupported} of "
                    f"{lost.unsupported} participants without manager support did not reach a worthwhile "
                    "result" + (f"; at the supported group's rate about {lost.extra_successes} more would have "
                                "been success cases (an association, not proof that support caused it)"
                                if lost.extra_successes else "") + ".</p>")
    parts.append('<section class="wide" aria-labelledby="h-mgr"><h2 id="h-mgr">Manager support and impact</h2>'
                 f'<p class="muted">Impact rate of respondents who got each kind of support vs those who did '
                 f"not, with the difference's 95% interval and Fisher's exact test; a difference whose "
                 "interval includes none is called not distinguishable. Rates are hidden when either "
                 f"group has fewer than {ev.min_group} people or answered alike, so no individual answer "
                 "can be inferred. Differences are associations, not proof of cause.</p>"
                 + _table("Impact rate with and without each support behaviour",
                          [("Support behaviour", False), ("With it", True), ("Without it", True),
                           ("Difference", True), ("People with / without", True)], frows,
                          "Manager support table", stack=True) + lost_txt + "</section>")

    # Stuck
    if view.stuck:
        srows = [[esc(r.participant), esc(r.prompt), esc(r.waiting_on), f"{r.since:%d %b %Y}", str(r.working_days)]
                 for r in view.stuck]
        stuck = _table(f"Open prompts without an answer for {view.stuck_after} or more working days",
                       [("Participant", False), ("Open prompt", False), ("Waiting on", False),
                        ("Sent", True), ("Working days waiting", True)], srows, "Stuck table", stack=True)
    else:
        stuck = f"<p>Nobody has been waiting {view.stuck_after}+ working days.</p>"
    parts.append(f'<section class="wide" aria-labelledby="h-stuck"><h2 id="h-stuck">Who is stuck</h2>'
                 f"{stuck}</section>")

    # Barriers
    if ev.barriers:
        top = max(n for _, n in ev.barriers)
        brows = [[esc(BARRIER_LABELS.get(b, b)),
                  f'<span class="bar" style="width:{round(80 * n / top)}px" aria-hidden="true"></span> {n}',
                  pct(n / ev.non_success if ev.non_success else None)] for b, n in ev.barriers]
        barriers = _table(f"Barriers named by the {ev.non_success} respondents without a success",
                          [("Barrier", False), ("Mentions", True), ("Share", True)], brows, "Barriers table")
    else:
        barriers = "<p>No barriers reported.</p>"
    parts.append(f'<section aria-labelledby="h-bar"><h2 id="h-bar">Barriers</h2>{barriers}</section>')

    short = [*summary_lines(ev, view.title, lost_line=view.business is None)[1:], *view.follow_up]
    summary = "".join(f"<li>{esc(line)}</li>" for line in short)
    parts.append(f'<section aria-labelledby="h-sum"><h2 id="h-sum">In short</h2>'
                 f'<ul class="summary">{summary}</ul></section>')
    if view.recommendations is not None:
        parts.append(changes_section(view.recommendations))
    parts.append("</div></main>")
    parts.append(f"<footer>Read-only view for {esc(claims.actor)}. This link expires at "
                 f"{claims.expires:%Y-%m-%d %H:%M} UTC. Answer texts and reflections are never shown here."
                 "</footer>")
    return page(f"{view.title} · {view.cohort} — HPLJ dashboard", "".join(parts))
