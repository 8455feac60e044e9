"""The admin web dashboard (`GET /dashboard`), reached only through a signed, expiring link.

Links
-----
`make_link(service, actor_id)` returns

    <public_url>/dashboard?actor=<id>&scope=<*|cohort>&exp=<unix>&sig=<hex>[&cohort=<name>]

`sig` is HMAC-SHA256 over the JSON array ``["v1", actor, scope, exp]`` with `settings.dashboard_secret`
(`HPLJ_DASHBOARD_SECRET`). When that setting is empty, a random secret made when this process
started is used instead: the links then work only against the process that made them and die on
every restart (set the secret when more than one web process serves the dashboard).

Export links
------------
`make_export_link(service, actor_id, person_id)` returns

    <public_url>/dashboard/export?actor=<id>&person=<id>&exp=<unix>&sig=<hex>

signed the same way over ``["export-v1", actor, person, exp]`` (a different purpose tag, so an
export link is never a dashboard link or the other way round). It downloads everything stored about
that one person as `export-<id>.json`, built from the database when it is opened: the URL holds ids
and a signature only, and once the person is forgotten it answers 410 with nothing. It is refused
(403, nothing revealed) when tampered with, expired (`EXPORT_TTL`, one hour), or when its actor is
no longer an admin. Each download leaves an `export_download` audit row (ids only).

`scope` is what the link may show: `*` (every cohort, the default the `dashboard` admin command
hands out) or one cohort name. `cohort` picks the cohort to show; it is not signed, so the cohort
selector can keep the signature, and it must lie inside the signed scope. Changing the actor,
scope or expiry breaks the signature; the signature is compared in constant time.

Page
----
Server-rendered HTML with inline CSS and inline SVG only (no scripts, no external assets). Every
figure comes from stored data: the Success Case `Evaluation` of `bot.reports.cohort_evaluation`,
plus the prompts table for the weekly funnel and the "who is stuck" table. Admins may see names of
participants and of the managers a prompt waits on, never answer texts or reflections.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.export import export_filename, export_json, export_person, record_export
from bot.host import Services
from bot.reports import cohort_evaluation
from bot.settings import Settings
from journeys.definition import Journey
from journeys.engine import local_date, tz_of
from journeys.evaluation import (
    BARRIER_LABELS,
    Evaluation,
    Rate,
    baseline_words,
    difference_words,
    summary_lines,
)
from journeys.stuck import stuck_after as stuck_days_of
from journeys.stuck import waiting_days
from store.repo import person_state

DEFAULT_TTL = timedelta(hours=1)
EXPORT_TTL = timedelta(hours=1)
ALL = "*"
_VERSION = "v1"
_EXPORT_PURPOSE = "export-v1"
# Random per process: links made with it stop working when the process restarts.
_PROCESS_SECRET = secrets.token_bytes(32)

# Participant steps that ask for an answer (messages only inform; manager steps are not the
# participant's progress).
ANSWERABLE = ("question", "mtm_plan", "mtm_follow_up", "survey")
SENT_STATUSES = ("open", "answered", "done", "expired")


class LinkError(Exception):
    """Why a dashboard link is refused; `str()` is safe to show to the person holding it."""


@dataclass(frozen=True)
class Claims:
    actor: str
    scope: str  # "*" or one cohort
    expires: datetime
    cohort: str | None  # the cohort asked for (inside the scope), if any

    def allows(self, cohort: str) -> bool:
        return self.scope == ALL or self.scope == cohort


# --- links ------------------------------------------------------------------------------------

def secret_for(settings: Settings | None) -> bytes:
    configured = getattr(settings, "dashboard_secret", "") if settings is not None else ""
    return configured.encode() if configured else _PROCESS_SECRET


def _sign(secret: bytes, actor: str, scope: str, exp: int, purpose: str = _VERSION) -> str:
    # JSON keeps the fields apart whatever characters an actor id or cohort name contains.
    msg = json.dumps([purpose, actor, scope, exp], separators=(",", ":")).encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def link_query(secret: bytes, actor: str, exp: int, *, scope: str = ALL, cohort: str | None = None) -> dict[str, str]:
    q = {"actor": actor, "scope": scope, "exp": str(exp), "sig": _sign(secret, actor, scope, exp)}
    if cohort:
        q["cohort"] = cohort
    return q


def make_link(service: Services, actor_id: str, *, ttl: timedelta = DEFAULT_TTL, cohort: str | None = None) -> str:
    """A signed dashboard URL for `actor_id`, valid for `ttl` from `service.clock.now()`.

    With `cohort`, the link shows that cohort only; without, every cohort (selectable).
    """
    settings = getattr(service, "settings", None)
    base = (getattr(settings, "public_url", "") or "http://localhost:3978").rstrip("/")
    exp = int((service.clock.now() + ttl).timestamp())
    q = link_query(secret_for(settings), str(actor_id), exp, scope=cohort or ALL, cohort=cohort)
    return f"{base}/dashboard?{urlencode(q)}"


def verify(query: Mapping[str, str], now: datetime, secret: bytes | str) -> Claims:
    """The claims of a dashboard link's query, or `LinkError` saying why it is refused."""
    key = secret.encode() if isinstance(secret, str) else secret
    actor, scope, exp_s, sig = (query.get(k) for k in ("actor", "scope", "exp", "sig"))
    if not sig or not actor or not scope or not exp_s:
        raise LinkError("This dashboard address has no valid signature. Open the dashboard only "
                        "through a link from the bot's `dashboard` command.")
    try:
        exp = int(exp_s)
    except ValueError:
        raise LinkError("This dashboard link is not valid (it was changed or cut short).") from None
    expected = _sign(key, actor, scope, exp)
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise LinkError("This dashboard link is not valid (it was changed, or it was made by "
                        "another installation or before a restart). Ask the bot for a new one "
                        "with the `dashboard` command.")
    expires = datetime.fromtimestamp(exp, UTC)
    if now >= expires:
        raise LinkError(f"This dashboard link expired at {expires:%Y-%m-%d %H:%M} UTC. Ask the bot "
                        "for a new one with the `dashboard` command.")
    cohort = query.get("cohort") or None
    if cohort is not None and scope != ALL and cohort != scope:
        raise LinkError("This dashboard link does not cover that cohort. Ask the bot for a link "
                        "with the `dashboard` command.")
    return Claims(actor, scope, expires, cohort or (None if scope == ALL else scope))


@dataclass(frozen=True)
class ExportClaims:
    actor: str  # the admin the link was made for (a person id)
    person: str  # the one person whose data it downloads
    expires: datetime


def export_query(secret: bytes, actor: str, person: str, exp: int) -> dict[str, str]:
    return {"actor": actor, "person": person, "exp": str(exp),
            "sig": _sign(secret, actor, person, exp, _EXPORT_PURPOSE)}


def make_export_link(service: Services, actor_id: str, person_id: str, *, ttl: timedelta = EXPORT_TTL) -> str | None:
    """A signed link downloading `person_id`'s export for admin `actor_id`, valid for `ttl`; None
    when this installation has no settings with a public URL to serve it from (`hplj chat`)."""
    settings = getattr(service, "settings", None)
    base = (getattr(settings, "public_url", "") or "").strip().rstrip("/") if settings is not None else ""
    if not base:
        return None
    exp = int((service.clock.now() + ttl).timestamp())
    q = export_query(secret_for(settings), str(actor_id), str(person_id), exp)
    return f"{base}/dashboard/export?{urlencode(q)}"


def verify_export(query: Mapping[str, str], now: datetime, secret: bytes | str) -> ExportClaims:
    """The claims of an export link's query, or `LinkError` (which never names the person)."""
    key = secret.encode() if isinstance(secret, str) else secret
    actor, person, exp_s, sig = (query.get(k) for k in ("actor", "person", "exp", "sig"))
    again = "Ask the bot for a new one with the `export` command."
    if not sig or not actor or not person or not exp_s:
        raise LinkError(f"This export address has no valid signature. {again}")
    try:
        exp = int(exp_s)
    except ValueError:
        raise LinkError(f"This export link is not valid (it was changed or cut short). {again}") from None
    expected = _sign(key, actor, person, exp, _EXPORT_PURPOSE)
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise LinkError("This export link is not valid (it was changed, or it was made by another "
                        f"installation or before a restart). {again}")
    expires = datetime.fromtimestamp(exp, UTC)
    if now >= expires:
        raise LinkError(f"This export link expired at {expires:%Y-%m-%d %H:%M} UTC. {again}")
    return ExportClaims(actor, person, expires)


# --- data -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WeekRow:
    label: str
    asked: int  # participants sent at least one question that week
    answered: int  # ... who answered at least one
    completed: int  # ... who answered every question they were sent that week


@dataclass(frozen=True)
class StuckRow:
    participant: str
    prompt: str
    waiting_on: str  # "participant" or the manager's name
    since: datetime
    working_days: int


@dataclass
class CohortView:
    cohort: str
    journey: Journey | None
    title: str
    evaluation: Evaluation | None
    participants: int
    weeks: list[WeekRow]
    stuck: list[StuckRow]
    stuck_after: int


async def list_cohorts(service: Services) -> list[str]:
    """Every cohort, the most recently enrolled first."""
    async with service.uow.read() as u:
        return await u.enrollments.cohorts_newest_first()


def _step_kind(journey: Journey | None, step_id: str) -> str | None:
    if journey is None:
        return None
    try:
        return journey.step(step_id).kind
    except KeyError:
        return None


def _step_title(journey: Journey | None, step_id: str) -> str:
    if journey is None:
        return step_id
    try:
        step = journey.step(step_id)
    except KeyError:
        return step_id
    return step.title or step_id


async def cohort_view(service: Services, cohort: str, now: datetime) -> CohortView:
    ev, title = await cohort_evaluation(service, cohort)
    default_tz = getattr(service, "default_tz", "UTC")
    async with service.uow.read() as u:
        rows = await u.views.cohort(cohort, without_unenrolled=True)
    enrollments, prompts, people = rows.enrollments, rows.prompts, rows.people
    journey = service.library.get(enrollments[0].journey_id) if enrollments else None
    by_id = {e.id: e for e in enrollments}

    # Funnel: participants' answerable prompts, by the journey week they were due in.
    per_week: dict[int, dict[str, list[bool]]] = {}
    for p in prompts:
        e = by_id[p.enrollment_id]
        if p.recipient_id != e.person_id or _step_kind(journey, p.step_id) not in ANSWERABLE:
            continue
        if p.status not in SENT_STATUSES or p.sent_at is None:
            continue
        person = people.get(e.person_id)
        tz = tz_of(journey, person_state(person, default_tz)) if journey and person else UTC
        week = max(0, (local_date(p.due_at, tz) - e.start).days // 7 + 1)  # type: ignore[arg-type]
        per_week.setdefault(week, {}).setdefault(e.id, []).append(p.status == "answered")
    weeks: list[WeekRow] = []
    for w in range(min(per_week), max(per_week) + 1) if per_week else ():
        who = per_week.get(w, {})  # a week without questions still shows, as 0 asked
        weeks.append(WeekRow("Before the start" if w == 0 else f"Week {w}", len(who),
                             sum(1 for v in who.values() if any(v)), sum(1 for v in who.values() if all(v))))

    # Who is stuck: open prompts waiting for an answer for `stuck_after` working days or more.
    stuck_after = stuck_days_of(journey) if journey is not None else 3
    stuck: list[StuckRow] = []
    for p in prompts:
        e = by_id[p.enrollment_id]
        if p.status != "open" or p.sent_at is None or e.status not in ("active", "paused"):
            continue
        recipient = people.get(p.recipient_id)
        participant = people.get(e.person_id)
        if journey is not None and recipient is not None:
            days = waiting_days(journey, person_state(recipient, default_tz), p, now) or 0
        else:
            days = max(0, (now.date() - p.sent_at.date()).days)
        if days < stuck_after:
            continue
        waiting = "participant" if p.recipient_id == e.person_id else \
            f"manager: {recipient.name if recipient else 'unknown'}"
        stuck.append(StuckRow(participant.name if participant else "(removed)", _step_title(journey, p.step_id),
                              waiting, p.sent_at, days))
    stuck.sort(key=lambda r: (-r.working_days, r.participant, r.prompt))
    return CohortView(cohort, journey, title, ev, len(enrollments), weeks, stuck, stuck_after)


# --- rendering --------------------------------------------------------------------------------

def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


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
    parts.append('<ul class="kpis" aria-label="Key figures">' + "".join(
        f'<li><span class="v">{esc(v)}</span><span class="l">{esc(lbl)}</span></li>' for v, lbl in kpis) + "</ul>")
    parts.append('<div class="grid">')

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
    if not lost.suppressed and lost.non_success_unsupported:
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

    summary = "".join(f"<li>{esc(line)}</li>" for line in summary_lines(ev, view.title)[1:])
    parts.append(f'<section aria-labelledby="h-sum"><h2 id="h-sum">In short</h2>'
                 f'<ul class="summary">{summary}</ul></section>')
    parts.append("</div></main>")
    parts.append(f"<footer>Read-only view for {esc(claims.actor)}. This link expires at "
                 f"{claims.expires:%Y-%m-%d %H:%M} UTC. Answer texts and reflections are never shown here."
                 "</footer>")
    return page(f"{view.title} · {view.cohort} — HPLJ dashboard", "".join(parts))


# --- the route --------------------------------------------------------------------------------

def mount_dashboard(app: web.Application, service: Services, settings: Settings | None) -> None:
    """Add `GET /dashboard` and `GET /dashboard/export` (an export download) to the web app."""
    cfg = settings if settings is not None else getattr(service, "settings", None)

    def refuse(reason: str) -> web.Response:
        return web.Response(status=403, text=refused_page(reason), content_type="text/html",
                            charset="utf-8", headers=SECURITY_HEADERS)

    async def still_admin(actor_id: str) -> bool:
        """A link is only as good as its actor: someone removed from the admins (or never one,
        or unknown) holds a dead link, whatever its signature says."""
        actor = await service.people.get(actor_id)
        return actor is not None and bool(await service.people.is_admin(actor.platform, actor.platform_user_id))

    async def dashboard(request: web.Request) -> web.Response:
        now = service.clock.now()
        try:
            claims = verify(request.query, now, secret_for(cfg))
        except LinkError as exc:
            return refuse(str(exc))
        if not await still_admin(claims.actor):
            return refuse("This dashboard link belongs to someone who is no longer a journey admin.")
        cohorts = [c for c in await list_cohorts(service) if claims.allows(c)]
        cohort = claims.cohort or (cohorts[0] if cohorts else None)
        if cohort is None:
            body = page("HPLJ dashboard", '<header><h1>Learning journey dashboard</h1></header>'
                        "<main><section><h2>No cohorts yet</h2><p>Nobody is enrolled.</p></section></main>")
            return web.Response(text=body, content_type="text/html", charset="utf-8", headers=SECURITY_HEADERS)
        view = await cohort_view(service, cohort, now)
        nav_query = {k: request.query[k] for k in ("actor", "scope", "exp", "sig")}
        status = 200 if view.evaluation is not None else 404
        return web.Response(status=status, text=render_dashboard(view, cohorts, nav_query, claims, now),
                            content_type="text/html", charset="utf-8", headers=SECURITY_HEADERS)

    app.router.add_get("/dashboard", dashboard)

    def no_export(status: int, text: str) -> web.Response:
        return web.Response(status=status, text=text + "\n", content_type="text/plain", charset="utf-8",
                            headers=SECURITY_HEADERS)

    async def export(request: web.Request) -> web.Response:
        now = service.clock.now()
        try:
            claims = verify_export(request.query, now, secret_for(cfg))
        except LinkError as exc:
            return no_export(403, str(exc))
        if not await still_admin(claims.actor):
            return no_export(403, "This export link belongs to someone who is no longer a journey admin.")
        data = await export_person(service.db, claims.person, now)
        if data is None:  # forgotten (or never stored): nothing to give, not even a name
            return no_export(410, "This export is no longer available.")
        body = export_json(data).encode("utf-8")
        await record_export(service.db, claims.actor, claims.person, now, "export_download")
        name = export_filename(claims.person)
        return web.Response(body=body, content_type="application/json", charset="utf-8",
                            headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})

    # no HEAD: a link checker probing the URL must not count as a download
    app.router.add_get("/dashboard/export", export, allow_head=False)


__all__ = ["EXPORT_TTL", "Claims", "ExportClaims", "LinkError", "cohort_view", "make_export_link", "make_link",
           "mount_dashboard", "secret_for", "verify", "verify_export"]
