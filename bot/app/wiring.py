"""The composition root: settings -> database, ports, dispatcher, service, web application.

Everything is built once, here, in dependency order; nothing is patched after construction.
This is the one module in bot/ that imports the platform adapters.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from adapters.ackfirst import step_aside
from bot.app.http_server import GuardedRunner, Limits
from bot.app.metrics import Metrics, mount_operations
from bot.app.public_pages import mount_public_pages
from bot.app.service import BotService
from bot.app.settings import Settings
from bot.app.settings import serve_problem as settings_problem
from bot.app.startup import port_problem, summary
from bot.app.tenants import allowed_tenants
from bot.app.web import base_app, wait_for_signal
from bot.dashboard.report_links import mount_report_download
from bot.dashboard.routes import mount_dashboard
from bot.services.backfill import add_closing_prompts
from bot.services.clock import Clock, SystemClock
from bot.services.people import PeopleDirectory
from journeys.definition import Journey
from journeys.messages import Message
from ports.chat import ChatPort, Profile
from scheduler.delivery import Dispatcher
from scheduler.loop import TickLoop
from scheduler.ratelimit import configured_limits
from store.db import Database
from store.migrate import upgrade_async
from store.uow import UnitOfWorkFactory

if TYPE_CHECKING:
    from adapters.console import ConsoleChat

log = logging.getLogger("hplj")

def build_ports(settings: Settings,
                on_address: Callable[[Profile, dict[str, Any]], Awaitable[bool]] | None = None, *,
                console: ChatPort | None = None) -> dict[str, ChatPort]:
    """Only the platforms that are configured; the console needs nothing (`console`: the one the
    demo and `hplj chat` print through). The dispatcher hands each delivery's stored address to the
    port; `on_address` stores an address a port found itself (a Teams chat opened through Graph)."""
    # lazy: only for a configured platform (an unused SDK is never imported)
    from adapters.console import ConsoleChat

    ports: dict[str, ChatPort] = {"console": console or ConsoleChat()}
    if settings.slack_bot_token:
        # lazy: only for a configured platform (an unused SDK is never imported)
        from adapters.slack.client import SlackChat, SlackFields

        fields = SlackFields(*(str(getattr(settings, f"slack_field_{name}", "") or "")
                               for name in ("manager", "working_hours", "working_days", "country")))
        ports["slack"] = SlackChat(settings.slack_bot_token, api_url=settings.slack_api_url, fields=fields)
    if settings.microsoft_app_id or settings.teams_local_mode:
        # lazy: only for a configured platform (an unused SDK is never imported)
        from adapters.teams.client import TeamsChat
        from adapters.teams.cloud import cloud_from_settings
        from adapters.teams.directory import graph_from_settings

        # The Teams endpoint (bot/wiring.build_app) shares this port's adapter: one credential cache,
        # one connector client for replies and proactive sends. A chat opened through Graph is
        # stored through `on_address` (the people directory's `remember`).
        ports["teams"] = TeamsChat(app_id=settings.microsoft_app_id, app_password=settings.microsoft_app_password,
                                   tenant_id=settings.microsoft_app_tenant_id,
                                   app_type=settings.microsoft_app_type or "MultiTenant",
                                   graph=graph_from_settings(settings), cloud=cloud_from_settings(settings),
                                   on_address=None if on_address is None else (
                                       lambda user_id, profile, address: on_address(profile, address)))
    return ports


def console_port(write: Callable[[str], None] | None = None) -> ConsoleChat:
    """The console adapter on its own (`hplj audit`, `hplj preview`): it records every delivery."""
    # lazy: only for a configured platform (an unused SDK is never imported)
    from adapters.console import ConsoleChat

    return ConsoleChat(write=write or (lambda _line: None))


def message_renderer(fmt: str) -> Callable[[Message], Any]:
    """The platform's own pure renderer of a neutral message: `slack` (the chat.postMessage body:
    fallback text and Block Kit), `teams` (the Adaptive Card) or `text` (the console's)."""
    if fmt == "slack":
        # lazy: only for a configured platform (an unused SDK is never imported)
        from adapters.slack.render import fallback_text, render_blocks

        return lambda m: {"text": fallback_text(m), "blocks": render_blocks(m)}
    if fmt == "teams":
        # lazy: only for a configured platform (an unused SDK is never imported)
        from adapters.teams.render import render_card

        return render_card
    # lazy: only for a configured platform (an unused SDK is never imported)
    from adapters.console.render import render_text

    return render_text


async def build_service(settings: Settings, library: dict[str, Journey], *, clock: Clock | None = None,
                        create: bool = True, db: Database | None = None, scheduler: bool = True,
                        console: ChatPort | None = None, metrics: Metrics | None = None,
                        ports: dict[str, ChatPort] | None = None,
                        pace: Callable[[], Awaitable[object]] | None = None) -> BotService:
    """The whole bot for `hplj serve`, `worker`, `tick`, `enroll --csv`, `demo` and `chat`, built once.

    `create`: bring the database up to date first (migrations, missing closing prompts) and lift
    the revocations a new Slack token ends. `scheduler`: this process runs the scheduler (on SQLite
    only such a process delivers). `metrics`: counts this process's deliveries (for /metrics).
    `ports`: the chat ports to use instead of those the settings configure (a test's recording
    port); everything else is built from the settings as for a deployment. `pace`: awaited before
    each outbox send (the web process's: sends wait while requests are waiting for answers)."""
    db = db or Database(settings.database_url)
    clock = clock or SystemClock()
    if create:
        await upgrade_async(db)
        await add_closing_prompts(UnitOfWorkFactory(db, settings.default_timezone), library, clock.now())
    people = PeopleDirectory(UnitOfWorkFactory(db, settings.default_timezone), clock,
                             frozenset(settings.admin_ids()), admin_tenants=allowed_tenants(settings))
    if ports is None:
        ports = build_ports(settings, lambda profile, address: people.remember("teams", profile, address),
                            console=console)
    service = BotService(db, library, ports, clock, default_tz=settings.default_timezone,
                         bootstrap_admins=settings.admin_ids(), settings=settings,
                         dispatcher=build_dispatcher(settings, db, ports, library=library, scheduler=scheduler,
                                                     observe=metrics.delivery if metrics is not None else None,
                                                     pace=pace),
                         people=people)
    if create:
        await service.access.reinstalled()  # a new Slack token after an uninstall: reachable again
    return service


def console_settings(db_path: Path, admins: Iterable[str]) -> Settings:
    """What `hplj demo` and `hplj chat` run with: their own SQLite file and the console alone (the
    environment's platform variables, if any, are not theirs)."""
    return Settings.model_validate({"database_url": f"sqlite:///{db_path}", "hplj_admins": " ".join(admins),
                                    "slack_bot_token": "", "slack_app_token": "", "slack_signing_secret": "",
                                    "microsoft_app_id": "", "teams_local_mode": False,
                                    "public_url": ""})  # no web server: files come whole, not as links


def build_dispatcher(settings: Settings, db: Database, ports: dict[str, ChatPort], *,
                     library: dict[str, Journey] | None = None, scheduler: bool = True,
                     observe: Callable[[str, str], None] | None = None,
                     pace: Callable[[], Awaitable[object]] | None = None) -> Dispatcher:
    """The outbox dispatcher with the configured rate limits, concurrency and lease, checking each
    row against its recipient's calendar at send time."""
    return Dispatcher(UnitOfWorkFactory(db, settings.default_timezone or "UTC"), ports,
                      limits=configured_limits(settings),
                      concurrency=int(getattr(settings, "delivery_concurrency", 16) or 16),
                      lease=timedelta(seconds=float(getattr(settings, "delivery_lease_seconds", 60) or 60)),
                      single=True, scheduler=scheduler, library=library,
                      default_tz=settings.default_timezone or "UTC", observe=observe, pace=pace)


def serve_problem(settings: Settings) -> str | None:
    """Why `hplj serve` must not start with these settings (one sentence), or None."""
    problem = settings_problem(settings)
    if problem is None and (settings.microsoft_app_id or settings.teams_local_mode):
        # lazy: only for a configured platform (an unused SDK is never imported)
        from adapters.teams.app import TeamsAuthConfigError, check_production_auth

        try:
            check_production_auth(settings.microsoft_app_id, settings.teams_local_mode,
                                  app_password=settings.microsoft_app_password,
                                  app_type=settings.microsoft_app_type)
        except TeamsAuthConfigError as exc:
            problem = str(exc)
    return problem


def build_app(service: BotService, settings: Settings | None, metrics: Metrics | None = None, *,
              pace: Callable[[], Awaitable[object]] | None = None) -> web.Application:
    """The web application `hplj serve` runs: health, the configured platforms, the dashboard
    (and, given `metrics`, /metrics and /readyz). `pace`: what Teams' extra replies wait for
    before they are posted (see `run_server`)."""
    app = base_app(service)
    if metrics is not None:
        app.middlewares.append(metrics.middleware())
        mount_operations(app, metrics, service.db, settings.metrics_token if settings is not None else "")
    if settings is not None and settings.slack_signing_secret:
        # lazy: only for a configured platform (an unused SDK is never imported)
        from adapters.slack.app import mount_slack

        mount_slack(app, service, signing_secret=settings.slack_signing_secret, token=settings.slack_bot_token,
                    api_url=settings.slack_api_url, backlog=settings.slack_backlog)
    if settings is not None and (settings.microsoft_app_id or settings.teams_local_mode):
        # lazy: only for a configured platform (an unused SDK is never imported)
        from adapters.teams.app import check_production_auth, mount_teams
        from adapters.teams.client import TeamsChat

        check_production_auth(settings.microsoft_app_id, settings.teams_local_mode,
                              app_password=settings.microsoft_app_password, app_type=settings.microsoft_app_type)
        # Replies share the proactive port's adapter (one credential cache, one connector client).
        port = service.ports.get("teams")
        mount_teams(app, service, app_id=settings.microsoft_app_id, app_password=settings.microsoft_app_password,
                    tenant_id=settings.microsoft_app_tenant_id, app_type=settings.microsoft_app_type or "MultiTenant",
                    adapter=port.adapter if isinstance(port, TeamsChat) else None,
                    allowed_tenants=allowed_tenants(settings), pace=pace)
        graph = port.graph if isinstance(port, TeamsChat) else None
        if graph is not None:
            async def close_graph(_app: web.Application) -> None:
                await graph.client.close()

            app.on_cleanup.append(close_graph)
    mount_dashboard(app, service, settings)
    if settings is not None:
        # (tests pass partial settings objects: the pages' texts default to the built-in ones)
        mount_public_pages(app, public_url=getattr(settings, "public_url", "http://localhost:3978"),
                           privacy_text=getattr(settings, "privacy_text", ""),
                           terms_text=getattr(settings, "terms_text", ""))
    mount_report_download(app, service, settings)
    return app


async def run_server(settings: Settings, library: dict[str, Journey], *, port: int, host: str = "0.0.0.0",
                     scheduler: bool = True) -> None:
    metrics = Metrics()
    # The outbox's sends step aside while requests wait for their answers (a burst of clicks
    # queues a card update each): the answers keep the core, the updates follow (each send waits
    # at most 1 s for a quiet turn of the loop; a card update has no 3-s deadline).
    service = await build_service(settings, library, scheduler=scheduler, metrics=metrics,
                                  pace=partial(step_aside, max_defer=1.0))
    metrics.platforms(service.ports)
    # Teams' extra replies ("Thanks, saved …", after the refreshed card) step aside the same way.
    app = build_app(service, settings, metrics, pace=partial(step_aside, max_defer=1.0))
    runner = GuardedRunner(app, Limits.from_settings(settings), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        await service.dispatcher.release()
        await service.db.dispose()
        raise port_problem(exc, host, port) from None
    loop = None
    if scheduler:
        loop = TickLoop(service.delivery, settings.tick_seconds, on_pass=_tick_observer(metrics))
        app["tick_loop"] = loop
        loop.start()
    settle_heap(rarer_full_collections=True)
    log.info("%s", summary(settings, role="serve", address=f"http://{host}:{port}", scheduler=scheduler))
    socket_mode = None
    if settings.slack_app_token and settings.slack_bot_token:
        # lazy: only for a configured platform (an unused SDK is never imported)
        from adapters.slack.socket_mode import start_socket_mode

        socket_mode = await start_socket_mode(service, app_token=settings.slack_app_token,
                                              token=settings.slack_bot_token, api_url=settings.slack_api_url)
        log.info("Slack Socket Mode connected")
    await wait_for_signal()
    if socket_mode is not None:
        await socket_mode.close_async()
    if loop:
        loop.shutdown()
    await runner.cleanup()
    await service.dispatcher.release()
    await service.db.dispose()


def settle_heap(*, rarer_full_collections: bool = False) -> None:
    """After start-up: everything loaded so far (libraries, journeys, SQLAlchemy metadata) lives as
    long as the process, so it is frozen out of the cyclic GC (a full collection under load then
    takes a few ms instead of ~90 ms, measured). `rarer_full_collections` (the web process): a full
    collection still stops the event loop for ~10 ms in the middle of whatever requests are open
    (twice in 20 s of 50 Teams clicks a second, BENCHMARKS.md issue 25), so it runs ten times less
    often; reference counting frees almost everything, and the young generations are unchanged."""
    gc.collect()
    gc.freeze()
    if rarer_full_collections:
        young, middle, full = gc.get_threshold()
        if full:
            gc.set_threshold(young, middle, full * 10)


def _tick_observer(metrics: Metrics) -> Callable[[float, bool], None]:
    def observe(seconds: float, ok: bool) -> None:
        metrics.tick.observe(seconds)
        if not ok:
            metrics.tick_failures.inc()

    return observe


async def run_worker(settings: Settings, library: dict[str, Journey]) -> None:
    metrics = Metrics()
    service = await build_service(settings, library, metrics=metrics)
    metrics.platforms(service.ports)
    runner = None
    if settings.metrics_port:  # the worker's own /metrics and /readyz (it serves nothing else)
        ops = web.Application()
        mount_operations(ops, metrics, service.db, settings.metrics_token)
        runner = web.AppRunner(ops, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, "0.0.0.0", settings.metrics_port).start()
        except OSError as exc:
            await runner.cleanup()
            await service.dispatcher.release()
            await service.db.dispose()
            raise port_problem(exc, "0.0.0.0", settings.metrics_port) from None
    loop = TickLoop(service.delivery, settings.tick_seconds, on_pass=_tick_observer(metrics))
    loop.start()
    # as in serve: what start-up loaded stays for the process; out of the cyclic GC, the
    # collections a tick's allocations trigger no longer walk it (BENCHMARKS.md, engine ceiling)
    settle_heap()
    address = f"http://0.0.0.0:{settings.metrics_port} (/metrics, /readyz)" if settings.metrics_port else None
    log.info("%s", summary(settings, role="worker", address=address, scheduler=True))
    await wait_for_signal()
    loop.shutdown()
    if runner is not None:
        await runner.cleanup()
    await service.dispatcher.release()
    await service.db.dispose()


