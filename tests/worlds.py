"""Bots for tests, built as a deployment builds them: by the composition root
(`bot.app.wiring.build_service`) from settings, on a database the test made, with the test's chat
ports (a recording port, a port pointed at a fake). Nothing is assigned to the bot afterwards."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.app.service import BotService
from bot.app.settings import Settings
from bot.app.wiring import build_service
from bot.services.clock import Clock
from journeys.definition import Journey
from ports.chat import ChatPort
from store.db import Database


def deployment_settings(admins: Iterable[str] = (), **values: object) -> Settings:
    """A deployment's settings (the environment is not read); no web server, so files come whole,
    not as download links."""
    return Settings.model_validate({"public_url": "", "hplj_admins": " ".join(admins), **values})


async def service_on(db: Database, library: dict[str, Journey], ports: Mapping[str, ChatPort], clock: Clock, *,
                     admins: Iterable[str] = (), settings: Settings | None = None) -> BotService:
    """The bot `build_service` makes, on `db` (its tables already made) with these ports; `admins`
    join the bootstrap admins of `settings`."""
    if settings is None:
        settings = deployment_settings(admins)
    elif admins:
        settings = settings.model_copy(update={"hplj_admins": " ".join(sorted({*settings.admin_ids(), *admins}))})
    return await build_service(settings, library, clock=clock, db=db, create=False, ports=dict(ports))
