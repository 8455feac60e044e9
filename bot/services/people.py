"""The people directory: who someone is on a platform, whether they are an admin, how to reach them."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

from bot.app.tenants import tenant_allowed
from bot.services.clock import Clock
from ports.chat import Profile
from store.people import PersonRecord, person_changes
from store.uow import UnitsOfWork


class PeopleDirectory:
    def __init__(self, uow: UnitsOfWork, clock: Clock, bootstrap_admins: AbstractSet[str] = frozenset(),
                 admin_tenants: frozenset[str] | None = None) -> None:
        self.uow = uow
        self.clock = clock
        self.bootstrap_admins = bootstrap_admins
        # Teams people whose e-mail is in HPLJ_ADMINS are admins only inside these tenants (None: any)
        self.admin_tenants = admin_tenants

    async def find(self, platform: str, user_id: str, *, alias: bool = False) -> PersonRecord | None:
        async with self.uow.read() as uow:
            return await uow.people.by_platform_id(platform, user_id, alias=alias)

    async def get(self, person_id: str) -> PersonRecord | None:
        async with self.uow.read() as uow:
            return await uow.people.get(person_id)

    async def by_email(self, email: str) -> list[PersonRecord]:
        async with self.uow.read() as uow:
            return await uow.people.by_email(email)

    async def ensure(self, platform: str, user_id: str, *, name: str | None = None, email: str | None = None,
                     tz: str | None = None, address: dict[str, Any] | None = None,
                     dm_id: str | None = None) -> PersonRecord:
        """The person, stored or brought up to date. Most calls find them stored and unchanged: a
        read, no write transaction."""
        now = self.clock.now()
        found = await self.find(platform, user_id)
        if found is not None and not person_changes(found, now, name=name, email=email, tz=tz, address=address,
                                                    dm_id=dm_id):
            return found
        async with self.uow() as uow:
            person, _ = await uow.people.upsert(platform, user_id, now, name=name, email=email, tz=tz,
                                                address=address, dm_id=dm_id)
            await uow.commit()
        return person

    async def is_admin(self, platform: str, user_id: str) -> bool:
        if user_id in self.bootstrap_admins:
            return True
        async with self.uow.read() as uow:
            person = await uow.people.by_platform_id(platform, user_id)
            if person is None:
                return False
            if self._email_admin(person):
                return True
            return await uow.admins.contains(person.id)

    def is_bootstrap(self, person: PersonRecord) -> bool:
        return person.platform_user_id in self.bootstrap_admins or self._email_admin(person)

    def _email_admin(self, person: PersonRecord) -> bool:
        """An HPLJ_ADMINS e-mail matches a Teams roster e-mail only inside an allowed tenant: the
        same address in another organisation's directory is someone else."""
        if not person.email or person.email not in self.bootstrap_admins:
            return False
        if person.platform != "teams":
            return True
        return tenant_allowed(str((person.address or {}).get("tenant_id") or ""), self.admin_tenants)

    async def remember(self, platform: str, profile: Profile, address: dict[str, Any]) -> bool:
        """Store how to reach a user; True the first time (they are greeted once)."""
        person = await self.ensure(platform, profile.user_id, name=profile.name, email=profile.email,
                                   tz=profile.tz, address=address)
        if person.greeted:
            return False
        async with self.uow() as uow:
            first = await uow.people.mark_greeted(person.id)
            await uow.commit()
        return first

    async def address_of(self, platform: str, user_id: str) -> dict[str, Any] | None:
        """How a user is reached proactively (a Teams ConversationReference) with their stored
        profile; `user_id` is the platform's user id or the bot's own person id."""
        async with self.uow.read() as uow:
            person = await uow.people.by_platform_id(platform, user_id) or await uow.people.get(user_id)
        if person is None or person.platform != platform or person.address is None:
            return None
        return {**person.address, "tz": person.tz, "email": person.email, "user_name": person.name}
