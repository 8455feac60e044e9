"""What every admin command works with: the acting admin, the services, and user references
resolved to stored people (so a command that fails changes nothing)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.services.host import Services
from journeys.admin.commands import UserRef
from journeys.calendar import zone
from journeys.messages import Link, Message
from journeys.relative import their_time_words
from journeys.state import Person
from journeys.timekeeping import first_name
from ports.chat import ChatPort, HandlerResult, Profile
from store.people import PersonRecord

LIST_LIMIT = 20  # beyond this many people, replies summarise instead of listing everyone


class AdminError(Exception):
    """A command that can't run as given; the message is shown to the admin verbatim."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Ctx:
    service: Services
    platform: str
    user_id: str
    actor: PersonRecord
    now: datetime
    today: date

    def reply(self, text: str, title: str = "", *, facts: tuple[tuple[str, str], ...] = (),
              attachment_name: str = "", attachment_text: str = "", links: tuple[Link, ...] = ()) -> HandlerResult:
        return HandlerResult(replies=(Message(recipient_id=self.actor.id, title=title, text=text, facts=facts,
                                              attachment_name=attachment_name, attachment_text=attachment_text,
                                              links=links, audience="admin"),))


async def actor(service: Services, platform: str, user_id: str, *, create: bool) -> PersonRecord:
    if create:
        return await service.people.ensure(platform, user_id)
    row = await service.people.find(platform, user_id, alias=True)
    if row is not None:
        return row
    # not stored and nothing may change: an unsaved stand-in, only used to address the reply
    return PersonRecord(id=user_id, platform=platform, platform_user_id=user_id, name=user_id)


@dataclass
class Found:
    """A resolved user: a stored row, or a profile still to be stored (so errors change nothing)."""

    ref: UserRef
    row: PersonRecord | None = None
    platform: str = ""
    user_id: str = ""
    name: str | None = None
    email: str | None = None
    tz: str | None = None

    def ident(self) -> tuple[str, str]:
        return (self.row.platform, self.row.platform_user_id) if self.row is not None else (self.platform,
                                                                                            self.user_id)

    async def store(self, service: Services) -> PersonRecord:
        if self.row is None or self.name or self.email or self.tz:
            platform = self.platform or (self.row.platform if self.row is not None else "")
            user_id = self.user_id or (self.row.platform_user_id if self.row is not None else "")
            self.row = await service.people.ensure(platform, user_id, name=self.name, email=self.email, tz=self.tz)
        return self.row


async def _profile(port: ChatPort | None, user_id: str) -> Profile | None:
    if port is None:
        return None
    try:
        profile = await port.resolve_profile(user_id)
    except Exception:  # noqa: BLE001 - any platform failure means we can't vouch for the user
        return None
    # a platform without a directory (Teams) answers with the id itself: that names nobody
    return replace(profile, name="") if profile.name == user_id else profile


async def find(ctx: Ctx, command: str, ref: UserRef, *, create: bool) -> Found:
    """Resolve a user reference; `create` allows people the platform knows but the bot doesn't yet."""
    service, platform = ctx.service, ctx.platform
    port = service.ports.get(platform)
    people = service.people
    if ref.kind == "mention":
        row = await people.find(platform, ref.value, alias=True)
        if row is not None and row.platform_user_id != ref.value:
            return Found(ref, row)  # known under an alias (a Teams channel account id)
        profile = await _profile(port, ref.value) if create else None
        if profile is not None:
            return Found(ref, row, platform, ref.value, profile.name, profile.email, profile.tz)
        if row is not None:
            return Found(ref, row)
        raise AdminError(f"`{command}`: unknown user {ref.display} (the {platform} workspace doesn't know them)")
    if ref.kind == "email":
        rows = sorted(await people.by_email(ref.value), key=lambda r: (r.platform != platform, r.created_at))
        if rows:
            return Found(ref, rows[0])
        found: Profile | None = None
        if port is not None:
            try:
                found = await port.find_user_by_email(ref.value)
            except Exception:  # noqa: BLE001
                found = None
        if found is not None:
            row = await people.find(platform, found.user_id, alias=True)
            if row is not None and not create:
                return Found(ref, row)
            if create:
                return Found(ref, row, platform, found.user_id, found.name, found.email or ref.value, found.tz)
        raise AdminError(f"`{command}`: no {platform} user has the e-mail {ref.value}")
    # kind == "name": a console user name on the acting platform
    row = await people.find(platform, ref.value, alias=True)
    profile = await _profile(port, ref.value) if create else None
    if profile is not None:
        return Found(ref, row, platform, ref.value, profile.name, profile.email, profile.tz)
    if row is not None:
        return Found(ref, row)
    if create and platform == "console":
        return Found(ref, None, platform, ref.value)
    raise AdminError(f"`{command}`: unknown user {ref.display} (expected someone who has talked to the bot)")


async def existing(ctx: Ctx, command: str, ref: UserRef) -> PersonRecord:
    found = await find(ctx, command, ref, create=False)
    if found.row is None:  # pragma: no cover - create=False always yields a row or an error
        raise AdminError(f"`{command}`: unknown user {ref.display}")
    return found.row


def label(p: PersonRecord) -> str:
    return p.name or p.platform_user_id


def names(people: list[PersonRecord] | list[str], limit: int = LIST_LIMIT) -> str:
    listed = [p if isinstance(p, str) else label(p) for p in people]
    if len(listed) <= limit:
        return ", ".join(listed)
    return f"{', '.join(listed[:limit])} and {len(listed) - limit} more"


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*(str(c) for c in r)) for r in rows]
    return "```\n" + "\n".join(line.rstrip() for line in out) + "\n```"


def as_admin_reads(ctx: Ctx, at: datetime, tz: ZoneInfo, person: Person) -> str:
    """A time of `person`'s, in their zone and labelled so, with "today" / "tomorrow" as the
    admin reading the reply lives it (their own zone and day): "tomorrow, Tue 8 Dec, 09:30 (Ana's
    time, America/New_York)". The admin acts on it today; the person lives it at that hour."""
    mine = zone(ctx.actor.tz or ctx.service.default_tz)
    return their_time_words(at, tz, f"{first_name(person)}'s", ctx.now.astimezone(mine).date())
