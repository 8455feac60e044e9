"""Uninstalls and revoked tokens: stop at once, park what waits, tell the L&D admins, purge later.

When a platform says the bot lost its access (Slack `app_uninstalled` / `tokens_revoked`, a Teams
`installationUpdate` remove; adapters/*/lifecycle.py), `AccessKeeper.changed`

1. records the revocation once (the pair of Slack events in either order, and any redelivery, add
   only a reason: `store/access.py`), with its purge date (`HPLJ_UNINSTALL_GRACE_DAYS` later);
2. parks the outbox rows of everyone it cuts off (state `parked`: never claimed, never retried
   against a dead token); the dispatcher parks any row for them it still meets, so nothing is sent
   from that moment, whatever process delivers;
3. tells every admin still reachable (not cut off themselves) once, through the outbox; when none
   is, says so in the log and `status` shows it.

At each tick, `purge_due` erases the data of everyone a revocation covered once its grace period
has passed, with `forget`'s own code (`uow.forget`, then `UnitOfWorkFactory.compact`): their
journey facts remain only as anonymous numbers. A Teams reinstall before the purge lifts the
person's revocation and releases their parked rows; a Slack reinstall comes with a new bot token,
and a process started with it lifts the workspace's revocation (`reinstalled`, called by
`bot/app/wiring.py` `build_service`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services.clock import Clock
from journeys.messages import Message, Outgoing
from journeys.state import Outcome
from ports.chat import AccessChange
from store.access import WORKSPACE, Revocation, cut_off, revocation_key
from store.people import PersonRecord
from store.uow import Conflict, UnitOfWorkFactory

log = logging.getLogger("hplj.access")

DEFAULT_GRACE = timedelta(days=30)
_PLATFORM = {"slack": "Slack", "teams": "Microsoft Teams", "console": "the console"}


def fingerprint(secret: str) -> str:
    """A credential's fingerprint: enough to tell two tokens apart, nothing to recover one from."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def _day(at: datetime, tz: str) -> str:
    try:
        zone = ZoneInfo(tz)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = at.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({zone.key})"


def where(r: Revocation) -> str:
    """Who lost the bot, in words: "the Slack workspace T0001", "a Microsoft Teams user (29:...)"."""
    platform = _PLATFORM.get(r.platform, r.platform)
    if r.scope == WORKSPACE:
        return f"the {platform} workspace {r.subject}"
    return f"{platform} for one person ({r.subject})"


def describe(r: Revocation, tz: str) -> str:
    """One line for `status`."""
    when = _day(r.revoked_at, tz)
    if r.purged_at is not None:
        return f"{where(r)}: access lost {when} ({', '.join(r.reasons)}); data erased {_day(r.purged_at, tz)}."
    told = f"{r.told} admin(s) told" if r.told else "no admin could be told on another platform"
    return (f"{where(r)}: access lost {when} ({', '.join(r.reasons)}); nothing is sent there; "
            f"data erased on {_day(r.purge_at, tz)} unless it is installed again; {told}.")


class AccessKeeper:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *, grace: timedelta = DEFAULT_GRACE,
                 admins: Iterable[str] = (), default_tz: str = "UTC",
                 on_queued: Callable[[], None] | None = None, credentials: Mapping[str, str] | None = None) -> None:
        """`credentials`: platform -> `fingerprint` of the credential this process uses (the Slack
        bot token), so a revocation knows which one died and a new one can lift it."""
        self.credentials = dict(credentials or {})
        self.uow = uow
        self.clock = clock
        self.grace = grace
        self.bootstrap_admins = frozenset(admins)
        self.default_tz = default_tz
        self.on_queued = on_queued

    async def changed(self, change: AccessChange) -> None:
        if change.scope == "team":
            # A team uninstall ends the team's channel conversations; each person's 1:1 chat belongs
            # to their personal installation and goes on (the bot never posts in channels).
            log.info("%s: the app was %s in team %s; personal chats are unaffected", change.platform,
                     "removed" if change.removed else "added", change.subject)
            return
        scope = WORKSPACE if change.scope == "workspace" else "person"
        if change.removed:
            await self._revoked(change.platform, scope, change.subject, change.reason)
        else:
            await self._restored(change.platform, scope, change.subject)

    async def _revoked(self, platform: str, scope: str, subject: str, reason: str) -> None:
        try:
            await self._revoke(platform, scope, subject, reason)
        except Conflict:  # the other event of the pair, recorded by another process at the same moment
            await self._revoke(platform, scope, subject, reason)

    async def _revoke(self, platform: str, scope: str, subject: str, reason: str) -> None:
        now = self.clock.now()
        async with self.uow(urgent=True) as uow:
            rev, first = await uow.access.record(platform, scope, subject, reason, now, now + self.grace,
                                                 credential=self.credentials.get(platform) if scope == WORKSPACE
                                                 else None)
            people = await uow.access.people(rev)
            parked = await uow.access.park([p.id for p in people], ", ".join(rev.reasons))
            told = 0
            if first:
                others = [r for r in await uow.access.active() if r.key != rev.key]
                admins = [a for a in await uow.access.admins(self.bootstrap_admins)
                          if not rev.covers(a) and a.id not in cut_off(others, {a.id: a})]
                out = Outcome(outgoing=[self._notice(rev, a, len(people)) for a in admins])
                told = await uow.queue(out, now)
                await uow.access.told(rev.key, told)
                uow.audit.record(now, None, "access_revoked", None,
                                 {"platform": platform, "scope": scope, "subject": subject, "reason": reason,
                                  "people": len(people), "parked": parked, "told": told})
            await uow.commit()
        if first:
            log.warning("lost access to %s (%s): %d people, %d queued messages parked, data purged at %s; %s",
                        where(rev), reason, len(people), parked, rev.purge_at.isoformat(),
                        f"{told} admin(s) told" if told else "no admin reachable on another platform: see `status`")
            if told and self.on_queued is not None:
                self.on_queued()
        else:
            log.info("lost access to %s noted again (%s)", where(rev), reason)

    def _notice(self, rev: Revocation, admin: PersonRecord, people: int) -> Outgoing:
        tz = admin.tz or self.default_tz
        text = (f"hplj lost its access to {where(rev)} ({', '.join(rev.reasons)}) on {_day(rev.revoked_at, tz)}. "
                f"Nothing more is sent there; the messages waiting for the {people} people there are parked. "
                f"Unless the app is installed again, their data is erased on {_day(rev.purge_at, tz)}, as `forget` "
                "would (their journey facts remain as anonymous numbers). Type `status` to see it again.")
        msg = Message(recipient_id=admin.id, text=text, title="hplj was uninstalled", audience="admin")
        return Outgoing(f"access:{rev.key}:{rev.revoked_at.isoformat()}:{admin.id}", msg, at_once=True)

    async def _restored(self, platform: str, scope: str, subject: str) -> None:
        await self._lift(revocation_key(platform, scope, subject))

    async def _lift(self, key: str) -> None:
        now = self.clock.now()
        async with self.uow(urgent=True) as uow:
            rev = next((r for r in await uow.access.active() if r.key == key), None)
            if rev is None or not await uow.access.lift_key(key):
                return
            people = await uow.access.people(rev)
            released = await uow.access.unpark([p.id for p in people], now)
            uow.audit.record(now, None, "access_restored", None, {"platform": rev.platform, "scope": rev.scope,
                                                                  "released": released})
            await uow.commit()
        log.info("access to %s is back: %d parked messages released", where(rev), released)
        if released and self.on_queued is not None:
            self.on_queued()

    async def reinstalled(self) -> int:
        """At start-up: a workspace revoked under another credential than this process's (a Slack
        reinstall comes with a new bot token) is reachable again; lift it. Returns how many."""
        async with self.uow.read() as uow:
            revs = await uow.access.active()
        lifted = 0
        for rev in revs:
            current = self.credentials.get(rev.platform)
            if rev.scope == WORKSPACE and rev.credential and current and current != rev.credential:
                await self._lift(rev.key)
                lifted += 1
        return lifted

    async def purge_due(self, now: datetime) -> int:
        """Erase (as `forget` does) everyone a revocation covered once its grace period is over."""
        async with self.uow.read() as uow:
            due = await uow.access.due(now)
        erased = 0
        for rev in due:
            async with self.uow.read() as uow:
                people = await uow.access.people(rev)
            for person in people:
                async with self.uow() as uow:
                    await uow.forget(person, now, None)
                    await uow.commit()
                erased += 1
            async with self.uow() as uow:
                await uow.access.purged(rev.key, now)
                uow.audit.record(now, None, "access_purged", None, {"platform": rev.platform, "scope": rev.scope,
                                                                    "people": len(people)})
                await uow.commit()
            log.warning("purged the data of %d people of %s after the grace period", len(people), where(rev))
        if erased:
            await self.uow.compact()
        return erased

    async def lines(self, tz: str) -> list[str]:
        async with self.uow.read() as uow:
            return [describe(r, tz) for r in await uow.access.all()]
