"""What the admin commands, reports and the dashboard need of the bot (BotService provides it).

A protocol, so those modules depend on the services' shape and not on bot/app/service.py (no cycle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bot.app.settings import Settings
from bot.services.clock import Clock
from bot.services.enrollment import Enrollment
from bot.services.people import PeopleDirectory
from journeys.definition import Journey
from ports.chat import ChatPort
from store.uow import UnitsOfWork


class Services(Protocol):
    """The services admin commands use (BotService provides them)."""

    @property
    def uow(self) -> UnitsOfWork: ...

    library: dict[str, Journey]
    ports: Mapping[str, ChatPort]
    clock: Clock
    default_tz: str
    settings: Settings | None
    people: PeopleDirectory
    enrollment: Enrollment


