"""Looking people up in the organisation's directory: the HR sync and cached live lookups first,
then the platform's own directory (Microsoft Graph, Slack profile fields) when the chat port
offers one; what a live lookup finds is cached in the database with an expiry."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from journeys.directory import DirectoryEntry

if TYPE_CHECKING:
    from bot.host import Services

log = logging.getLogger("hplj.directory")

DIRECTORY_TTL = timedelta(hours=24)  # an org chart changes slowly; a stale day costs little


@runtime_checkable
class DirectorySource(Protocol):
    """Implemented by chat ports that can see the organisation (Teams through Graph, Slack fields)."""

    directory_source: str  # the directory table's `source`: "graph", "slack"

    async def directory_entries(self, email: str) -> list[DirectoryEntry]:
        """The person with this e-mail and, when known, their managers upward (first is the person);
        empty when the directory does not know them."""
        ...


async def lookup(service: Services, platform: str, email: str) -> DirectoryEntry | None:
    """What the directory says about `email`, asking the platform when nothing fresh is stored."""
    email = email.lower()
    now = service.clock.now()
    async with service.uow.read() as uow:
        entry = (await uow.directory.fresh([email], now)).get(email)
    if entry is not None and entry.manager_email:
        return entry
    port = service.ports.get(platform)
    if not isinstance(port, DirectorySource):
        return entry
    try:
        found = await port.directory_entries(email)
    except Exception as exc:  # noqa: BLE001 - a directory outage leaves the admin a clear answer, not a trace
        log.warning("directory lookup failed on %s: %s", platform, type(exc).__name__)
        return entry
    if not found:
        return entry
    async with service.uow() as uow:
        await uow.directory.save(port.directory_source, found, now, DIRECTORY_TTL)
        stored = (await uow.directory.fresh([email], now)).get(email)
        await uow.commit()
    return stored


async def apply(service: Services, emails: Iterable[str]) -> int:
    """Copy what the directory says onto the people rows with these e-mails (their calendar, manager)."""
    wanted = [e for e in emails if e]
    if not wanted:
        return 0
    async with service.uow() as uow:
        changed = await uow.directory.apply_to_people(wanted, service.clock.now())
        await uow.commit()
    return changed
