"""The Teams tenant's directory through Microsoft Graph: people by e-mail, their managers up to the
senior leader, their own calendar from mailbox settings, and a 1:1 chat with the bot for anyone
in the tenant (the app is installed for them when they have not installed it themselves).

Graph names time zones the Windows way ("W. Europe Standard Time"); the CLDR windowsZones
mapping shipped with `tzlocal` turns them into IANA names. Missing data is normal, not an error:
no mailbox (guests, unlicensed accounts), no manager (the top of the chart), unmapped zones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import win_tz

from adapters.teams.graph import (
    DEFAULT_AUTHORITY,
    DEFAULT_GRAPH_URL,
    GraphClient,
    GraphConfig,
    GraphError,
)
from journeys.directory import DirectoryEntry
from ports.chat import Profile

log = logging.getLogger(__name__)

MAX_CHAIN = 12  # managers followed upward; org charts are shallower, cycles stop sooner
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def iana_zone(name: str | None) -> str | None:
    """A Windows time-zone name (or an IANA one, which mailboxes may also carry) as IANA."""
    if not name:
        return None
    mapped = win_tz.get(name.strip())
    if mapped:
        return mapped
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name.strip()


def _hhmm(value: Any) -> time | None:
    text = str(value or "")
    try:
        return time(int(text[0:2]), int(text[3:5])) if len(text) >= 5 and text[2] == ":" else None
    except ValueError:
        return None


def email_of(user: dict[str, Any]) -> str | None:
    value = user.get("mail") or user.get("userPrincipalName")
    return str(value).lower() if value and "@" in str(value) else None


def entry_from_graph(user: dict[str, Any], mailbox: dict[str, Any] | None,
                     manager: dict[str, Any] | None) -> DirectoryEntry | None:
    email = email_of(user)
    if email is None:
        return None
    hours = (mailbox or {}).get("workingHours") or {}
    # working hours are stated in their own zone; that is the zone the person is reached in
    tz = iana_zone((hours.get("timeZone") or {}).get("name")) or iana_zone((mailbox or {}).get("timeZone"))
    days = tuple(sorted({_WEEKDAYS.index(d.lower()) for d in hours.get("daysOfWeek") or []
                         if isinstance(d, str) and d.lower() in _WEEKDAYS})) or None
    start, end = _hhmm(hours.get("startTime")), _hhmm(hours.get("endTime"))
    if start is None or end is None or not start < end:
        start = end = None
    locale = ((mailbox or {}).get("language") or {}).get("locale") or user.get("preferredLanguage") or None
    country = str(user.get("usageLocation") or "").upper() or None
    return DirectoryEntry(email=email, name=user.get("displayName") or None,
                          manager_email=email_of(manager) if manager else None, country=country, tz=tz,
                          work_days=days, work_start=start, work_end=end, locale=locale,
                          external_id=str(user.get("id") or "") or None)


@dataclass(frozen=True)
class ChatTarget:
    """Where new 1:1 chats are created: the connector's service URL, the tenant, the bot."""

    service_url: str
    tenant_id: str
    bot_app_id: str
    catalog_id: str = ""  # the app's id in the org catalog; looked up by the bot's app id if empty


class GraphDirectory:
    """`bot.services.directory.DirectorySource` for Teams, plus profile lookups and reach without a prior chat."""


    def __init__(self, client: GraphClient, target: ChatTarget) -> None:
        self.client = client
        self.target = target
        self._catalog_id = target.catalog_id

    async def directory_entries(self, email: str) -> list[DirectoryEntry]:
        user = await self.client.user_by_email(email)
        if user is None:
            return []
        chain: list[dict[str, Any]] = [user]
        seen = {user.get("id")}
        while len(chain) < MAX_CHAIN:
            manager = await self.client.manager(str(chain[-1]["id"]))
            if manager is None or manager.get("id") in seen:
                break
            seen.add(manager.get("id"))
            chain.append(manager)
        out: list[DirectoryEntry] = []
        for i, person in enumerate(chain):
            mailbox = None if person.get("userType") == "Guest" else await self.client.mailbox_settings(
                str(person["id"]))
            entry = entry_from_graph(person, mailbox, chain[i + 1] if i + 1 < len(chain) else None)
            if entry is not None:
                out.append(entry)
        return out

    async def profile_by_email(self, email: str) -> Profile | None:
        user = await self.client.user_by_email(email)
        return None if user is None else _profile(user)

    async def profile(self, user_id: str) -> Profile | None:
        user = await self.client.user(user_id)
        return None if user is None else _profile(user)

    async def open_chat(self, user_id: str) -> dict[str, Any] | None:
        """An address for the 1:1 chat between the bot and `user_id` (AAD object id), installing the
        app for them first when needed; None when Graph does not know them."""
        user = await self.client.user(user_id)
        if user is None:
            return None
        if not self._catalog_id:
            self._catalog_id = await self.client.catalog_id(self.target.bot_app_id) or ""
            if not self._catalog_id:
                raise GraphError(404, "AppNotInCatalog", "the bot's Teams app is not in the organisation's catalog")
        installation = await self.client.installation(user_id, self._catalog_id)
        if installation is None:
            await self.client.install(user_id, self._catalog_id)
            log.info("teams: installed the app for a person who had not installed it")
            installation = await self.client.installation(user_id, self._catalog_id)
        chat = await self.client.chat_id(user_id, installation) if installation else None
        if not chat:
            return None
        return {"channel_id": "msteams", "service_url": self.target.service_url, "tenant_id": self.target.tenant_id,
                "conversation_id": chat, "conversation_type": "personal", "user_id": user_id,
                "user_aad_id": user_id, "user_name": user.get("displayName") or "",
                "bot_id": f"28:{self.target.bot_app_id}", "bot_name": "", "locale": ""}


def _profile(user: dict[str, Any]) -> Profile:
    return Profile(user_id=str(user["id"]), name=str(user.get("displayName") or user["id"]), email=email_of(user))


def graph_from_settings(settings: Any) -> GraphDirectory | None:
    """Graph when the bot has a full app registration (id, secret, tenant) and it is not turned off."""
    app_id = str(getattr(settings, "microsoft_app_id", "") or "")
    secret = str(getattr(settings, "microsoft_app_password", "") or "")
    tenant = str(getattr(settings, "microsoft_app_tenant_id", "") or "")
    if not (app_id and secret and tenant) or not getattr(settings, "teams_graph", True):
        return None

    config = GraphConfig(tenant_id=tenant, client_id=app_id, client_secret=secret,
                         graph_url=getattr(settings, "microsoft_graph_url", "") or DEFAULT_GRAPH_URL,
                         authority=getattr(settings, "microsoft_graph_authority", "") or DEFAULT_AUTHORITY,
                         ca_file=getattr(settings, "microsoft_graph_ca_bundle", "") or None)
    target = ChatTarget(service_url=getattr(settings, "teams_service_url", "") or
                        "https://smba.trafficmanager.net/teams/", tenant_id=tenant, bot_app_id=app_id,
                        catalog_id=getattr(settings, "teams_app_catalog_id", "") or "")
    return GraphDirectory(GraphClient(config), target)
