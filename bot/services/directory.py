"""Looking people up in the organisation's directory: the HR sync and cached live lookups first,
then the platform's own directory (Microsoft Graph, Slack profile fields) when the chat port
offers one; what a live lookup finds is cached in the database with an expiry."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from journeys.directory import DirectoryEntry

if TYPE_CHECKING:
    from bot.services.host import Services

log = logging.getLogger("hplj.directory")

DIRECTORY_TTL = timedelta(hours=24)  # an org chart changes slowly; a stale day costs little


async def lookup(service: Services, platform: str, email: str) -> DirectoryEntry | None:
    """What the directory says about `email`, asking the platform when nothing fresh is stored."""
    email = email.lower()
    now = service.clock.now()
    async with service.uow.read() as uow:
        entry = (await uow.directory.fresh([email], now)).get(email)
    if entry is not None and entry.manager_email:
        return entry
    port = service.ports.get(platform)
    source = port.capabilities.directory if port is not None else None
    if port is None or source is None:  # the platform offers no directory (ChatPort.capabilities)
        return entry
    try:
        found = await port.directory_entries(email)
    except Exception as exc:  # noqa: BLE001 - a directory outage leaves the admin a clear answer, not a trace
        log.warning("directory lookup failed on %s: %s", platform, type(exc).__name__)
        return entry
    if not found:
        return entry
    async with service.uow() as uow:
        await uow.directory.save(source, found, now, DIRECTORY_TTL)
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
