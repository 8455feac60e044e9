"""The admin web dashboard (`GET /dashboard`) and export download (`GET /dashboard/export`),
each reached only through a signed, expiring link (`bot/dashboard/links.py`). The figures come from
`bot/dashboard/view.py`, the page from `bot/dashboard/page.py`.
"""

from __future__ import annotations

from aiohttp import web

from bot.app.settings import Settings
from bot.dashboard.links import LinkError, secret_for, verify, verify_export
from bot.dashboard.page import SECURITY_HEADERS, page, refused_page, render_dashboard
from bot.dashboard.view import cohort_view, list_cohorts
from bot.services.export import export_filename, export_json, export_person, record_export
from bot.services.host import Services


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
        data = await export_person(service.uow, claims.person, now)
        if data is None:  # forgotten (or never stored): nothing to give, not even a name
            return no_export(410, "This export is no longer available.")
        body = export_json(data).encode("utf-8")
        await record_export(service.uow, claims.actor, claims.person, now, "export_download")
        name = export_filename(claims.person)
        return web.Response(body=body, content_type="application/json", charset="utf-8",
                            headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})

    # no HEAD: a link checker probing the URL must not count as a download
    app.router.add_get("/dashboard/export", export, allow_head=False)
