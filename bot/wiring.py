"""Composition root: settings -> database, journeys, ports, service."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from adapters.port import ChatPort
from bot.clock import Clock, SystemClock
from bot.service import BotService
from journeys.definition import Journey
from scheduler.delivery import Dispatcher
from store.db import Database

log = logging.getLogger("hplj")


def build_ports(settings: Any, service_ref: list[BotService]) -> dict[str, ChatPort]:
    """Only the platforms that are configured; the console needs nothing."""
    from adapters.console import ConsoleChat

    ports: dict[str, ChatPort] = {"console": ConsoleChat()}
    if settings.slack_bot_token:
        from adapters.slack.client import SlackChat, SlackFields

        fields = SlackFields(*(str(getattr(settings, f"slack_field_{name}", "") or "")
                               for name in ("manager", "working_hours", "working_days", "country")))
        ports["slack"] = SlackChat(settings.slack_bot_token, api_url=settings.slack_api_url, fields=fields)
    if settings.microsoft_app_id or settings.teams_local_mode:
        from adapters.port import Profile
        from adapters.teams.client import TeamsChat
        from adapters.teams.directory import graph_from_settings

        async def address_for(user_id: str) -> dict[str, Any] | None:
            return await service_ref[0].address_of("teams", user_id) if service_ref else None

        async def on_address(user_id: str, profile: Profile, address: dict[str, Any]) -> None:
            if service_ref:
                await service_ref[0].remember_user("teams", profile, address)

        ports["teams"] = TeamsChat(app_id=settings.microsoft_app_id, app_password=settings.microsoft_app_password,
                                   tenant_id=settings.microsoft_app_tenant_id,
                                   app_type=settings.microsoft_app_type or "MultiTenant", address_for=address_for,
                                   graph=graph_from_settings(settings), on_address=on_address)
    return ports


async def build_service(settings: Any, library: dict[str, Journey], *, clock: Clock | None = None,
                        create: bool = True, scheduler: bool = True) -> BotService:
    """`scheduler`: this process runs the scheduler (on SQLite only such a process delivers)."""
    db = Database(settings.database_url)
    if create:
        from store.migrate import upgrade_async

        await upgrade_async(db)
    ref: list[BotService] = []
    service = BotService(db, library, build_ports(settings, ref), clock or SystemClock(),
                         default_tz=settings.default_timezone, bootstrap_admins=settings.admin_ids(),
                         settings=settings)
    ref.append(service)
    service.dispatcher = build_dispatcher(settings, db, service.ports, library=library, scheduler=scheduler)
    return service


def build_dispatcher(settings: Any, db: Database, ports: dict[str, ChatPort], *,
                     library: dict[str, Journey] | None = None, scheduler: bool = True) -> Dispatcher:
    """The outbox dispatcher with the configured rate limits, concurrency and lease, checking each
    row against its recipient's calendar at send time."""
    from scheduler.ratelimit import configured_limits

    return Dispatcher(db, ports, limits=configured_limits(settings),
                      concurrency=int(getattr(settings, "delivery_concurrency", 16) or 16),
                      lease=timedelta(seconds=float(getattr(settings, "delivery_lease_seconds", 60) or 60)),
                      single=True, scheduler=scheduler, library=library,
                      default_tz=getattr(settings, "default_timezone", "UTC") or "UTC")
