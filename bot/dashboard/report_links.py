"""A cohort's evaluation CSV by signed download link (`report <cohort> csv` in Teams, where a
bot's personal chat takes no file without a consent round trip; Slack gets the same file uploaded).

    <public_url>/dashboard/report.csv?actor=<id>&cohort=<name>&exp=<unix>&sig=<hex>

signed like the export links (bot/dashboard/links.py) over ``["report-csv-v1", actor, cohort,
exp]``, valid one hour, only while its actor is an admin. The CSV is built when the link is
opened, by the same code as the file Slack receives, so both platforms get the same content.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from aiohttp import web

from bot.app.settings import Settings
from bot.dashboard.links import LinkError, _sign, secret_for
from bot.services.exports import evaluation_csv
from bot.services.host import Services
from bot.services.reports import cohort_evaluation

REPORT_TTL = timedelta(hours=1)
PATH = "/dashboard/report.csv"
_PURPOSE = "report-csv-v1"


def report_filename(cohort: str) -> str:
    return f"report-{cohort}.csv"


async def report_csv(service: Services, cohort: str, now: datetime) -> str | None:
    """The cohort's evaluation as CSV, or None for an unknown cohort."""
    ev, _title = await cohort_evaluation(service, cohort)
    return None if ev is None else await evaluation_csv(service, cohort, ev, now)


def make_report_link(service: Services, actor_id: str, cohort: str, *, ttl: timedelta = REPORT_TTL) -> str | None:
    """A signed link to the cohort's CSV for admin `actor_id`; None without a public URL."""
    settings = getattr(service, "settings", None)
    base = (getattr(settings, "public_url", "") or "").strip().rstrip("/") if settings is not None else ""
    if not base:
        return None
    exp = int((service.clock.now() + ttl).timestamp())
    sig = _sign(secret_for(settings), str(actor_id), cohort, exp, _PURPOSE)
    return f"{base}{PATH}?{urlencode({'actor': actor_id, 'cohort': cohort, 'exp': str(exp), 'sig': sig})}"


def verify_report(query: Mapping[str, str], now: datetime, secret: bytes) -> tuple[str, str]:
    """(actor, cohort) of a valid report link, or LinkError."""
    actor, cohort, exp_s, sig = (query.get(k) for k in ("actor", "cohort", "exp", "sig"))
    again = "Ask the bot for a new one with `report <cohort> csv`."
    if not (actor and cohort and exp_s and sig) or not exp_s.isdigit():
        raise LinkError(f"This report link is not valid (it was changed or cut short). {again}")
    if not hmac.compare_digest(_sign(secret, actor, cohort, int(exp_s), _PURPOSE).encode(), sig.encode()):
        raise LinkError(f"This report link is not valid (it was changed, or made before a restart). {again}")
    expires = datetime.fromtimestamp(int(exp_s), UTC)
    if now >= expires:
        raise LinkError(f"This report link expired at {expires:%Y-%m-%d %H:%M} UTC. {again}")
    return actor, cohort


def mount_report_download(app: web.Application, service: Services, settings: Settings | None) -> None:
    """Add `GET /dashboard/report.csv` (no HEAD: a link checker must not count as a download)."""

    def refuse(status: int, text: str) -> web.Response:
        return web.Response(status=status, text=text + "\n", content_type="text/plain", charset="utf-8",
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    async def download(request: web.Request) -> web.Response:
        now = service.clock.now()
        try:
            actor_id, cohort = verify_report(request.query, now, secret_for(settings))
        except LinkError as exc:
            return refuse(403, str(exc))
        actor = await service.people.get(actor_id)
        if actor is None or not await service.people.is_admin(actor.platform, actor.platform_user_id):
            return refuse(403, "This report link belongs to someone who is no longer a journey admin.")
        text = await report_csv(service, cohort, now)
        if text is None:
            return refuse(410, "This cohort has no report any more.")
        return web.Response(text=text, content_type="text/csv", charset="utf-8",
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                                     "Content-Disposition": f'attachment; filename="{report_filename(cohort)}"'})

    app.router.add_get(PATH, download, allow_head=False)
