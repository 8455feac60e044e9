"""The bot as the adapters see it: one `BotHandler` over the services that do the work.

`BotService` holds no logic of its own: inbound handling (bot/services/inbound.py), the people directory
(bot/services/people.py), enrollment (bot/services/enrollment.py), admin commands (bot/admin/commands.py) and the delivery loop
(scheduler/loop.py) are built once, here, from what the composition root (bot/app/wiring.py) gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from bot.admin.commands import run_admin_command
from bot.app.settings import Settings
from bot.app.tenants import allowed_tenants
from bot.services.access import DEFAULT_GRACE, AccessKeeper, fingerprint
from bot.services.clock import Clock, SystemClock
from bot.services.enrollment import Enrollment, EnrollResult
from bot.services.inbound import NOT_YOURS, PROMPT_GONE, InboundHandler
from bot.services.people import PeopleDirectory
from journeys.definition import Journey
from journeys.evaluation.success_case import MIN_GROUP
from journeys.messages import Message
from journeys.text import clean
from ports.chat import AccessChange, BotHandler, ChatPort, HandlerResult, InboundAction, Profile
from scheduler.delivery import DeliveryResult, Dispatcher
from scheduler.loop import DeliveryLoop
from scheduler.tick import TickResult
from store.db import Database
from store.people import PersonRecord
from store.uow import UnitOfWorkFactory


class BotService(BotHandler):
    def __init__(self, db: Database, library: dict[str, Journey], ports: Mapping[str, ChatPort],
                 clock: Clock | None = None, *, default_tz: str = "UTC", bootstrap_admins: set[str] | None = None,
                 settings: Settings | None = None, dispatcher: Dispatcher | None = None,
                 people: PeopleDirectory | None = None) -> None:
        self.db = db
        self.library = library
        self.ports: Mapping[str, ChatPort] = dict(ports)
        self.clock: Clock = clock or SystemClock()
        self.default_tz = default_tz
        self.bootstrap_admins = frozenset(bootstrap_admins or ())
        self.settings = settings
        self.uow = UnitOfWorkFactory(db, default_tz)
        self.dispatcher = dispatcher or Dispatcher(self.uow, self.ports, library=library, default_tz=default_tz)
        # the web process's pace (its dispatcher's) also spaces the tick's batches
        self.delivery = DeliveryLoop(self.uow, library, self.dispatcher, self.clock.now,
                                     min_group=settings.min_group_size if settings else MIN_GROUP,
                                     pace=self.dispatcher.pace)
        self.people = people or PeopleDirectory(self.uow, self.clock, self.bootstrap_admins,
                                                admin_tenants=allowed_tenants(settings))
        self.enrollment = Enrollment(self.uow, library, self.clock, default_tz)
        self.inbound = InboundHandler(self.uow, library, self.clock, self.people, default_tz=default_tz,
                                      on_queued=self.delivery.kick)
        grace = getattr(settings, "uninstall_grace_days", None)
        self.access = AccessKeeper(self.uow, self.clock, admins=self.bootstrap_admins, default_tz=default_tz,
                                   grace=DEFAULT_GRACE if grace is None else timedelta(days=float(grace)),
                                   on_queued=self.delivery.kick, credentials=credentials(settings))

    # --- BotHandler ---------------------------------------------------------------------------

    async def handle_action(self, action: InboundAction) -> HandlerResult:
        return await self.inbound.handle_action(action.cleaned())  # no control character gets past the port

    async def handle_command(self, platform: str, user_id: str, text: str, key: str) -> HandlerResult:
        return await run_admin_command(self, platform, user_id, clean(text), key)

    async def remember_user(self, platform: str, profile: Profile, address: dict[str, Any]) -> bool:
        return await self.people.remember(platform, profile.cleaned(), address)

    async def prompt_message(self, prompt_id: str, *, platform: str | None = None,
                             user_id: str | None = None) -> Message | None:
        return await self.inbound.prompt_message(prompt_id, platform=platform, user_id=user_id)

    async def home_view(self, platform: str, user_id: str) -> list[Message] | None:
        return await self.inbound.home_view(platform, user_id)

    async def access_changed(self, change: AccessChange) -> None:
        """An uninstall or a revoked token (or a reinstall): bot/services/access.py."""
        await self.access.changed(change)

    # --- the parts, for the CLI, the demo and tests ---------------------------------------------

    async def ensure_person(self, platform: str, user_id: str, *, name: str | None = None,
                            email: str | None = None, tz: str | None = None, address: dict[str, Any] | None = None,
                            dm_id: str | None = None) -> PersonRecord:
        return await self.people.ensure(platform, user_id, name=name, email=email, tz=tz, address=address,
                                        dm_id=dm_id)

    async def is_admin(self, platform: str, user_id: str) -> bool:
        return await self.people.is_admin(platform, user_id)

    async def address_of(self, platform: str, user_id: str) -> dict[str, Any] | None:
        return await self.people.address_of(platform, user_id)

    async def enroll(self, journey_id: str, participant_ids: list[str], manager_id: str | None, start: date,
                     *, events: dict[str, date] | None = None, cohort: str | None = None,
                     actor_id: str | None = None) -> EnrollResult:
        return await self.enrollment.enroll(journey_id, participant_ids, manager_id, start, events=events,
                                            cohort=cohort, actor_id=actor_id)

    async def tick(self, now: datetime | None = None) -> tuple[TickResult, DeliveryResult]:
        at = now or self.clock.now()
        await self.access.purge_due(at)  # data of uninstalled workspaces/people whose grace period ended
        return await self.delivery.tick(at)

    async def drain(self, now: datetime | None = None) -> DeliveryResult:
        return await self.delivery.drain(now)

    def kick(self) -> None:
        self.delivery.kick()

    async def settle(self) -> None:
        await self.delivery.settle()


def credentials(settings: Settings | None) -> dict[str, str]:
    """Fingerprints of the platform credentials in use (bot/services/access.py: a new one lifts a revocation)."""
    token = str(getattr(settings, "slack_bot_token", "") or "")
    return {"slack": fingerprint(token)} if token else {}


__all__ = ["NOT_YOURS", "PROMPT_GONE", "BotService", "EnrollResult"]
