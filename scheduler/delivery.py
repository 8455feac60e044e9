"""Draining the outbox through the chat ports: once, in order, and honest about failures.

A row is leased (state `sending`, `lease_until`) before the request leaves, and settled after.
A live sender renews the leases of the rows it holds every third of the lease, however slow its
pass or the platform, so only a sender that died (or whose loop stalled a whole lease) loses them.
A lease that expires means the sender died mid-request: the outcome is unknown, so the row is
reconciled (Slack: look for its delivery id in the DM's history) or, where a platform has no
lookup, resent once and flagged `ambiguous`.

Sends go through a `RateLimiter` (scheduler/ratelimit.py): rows of different conversations are
delivered concurrently (bounded by `concurrency`), rows of one conversation in order. A send that
would have to wait longer than the lease allows is handed back (`pending`, due when its slot
comes), never sent late under an expired lease. A 429 pauses its conversation (and the platform
when the refusal looks workspace/tenant-wide) for `Retry-After`: no row for it leaves before.

Before anything leaves, the send-time check (scheduler/sendtime.py) looks at the recipient's
calendar again: a row outside their hours is held to their next open slot, spaced behind the rest
of their backlog. On SQLite only a process that runs the scheduler may hold the delivery lock; a
web-only process leaves its rows to that holder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from journeys.definition import Journey
from journeys.messages import Message
from journeys.reread import reread
from journeys.state import Person
from ports.chat import ChatPort, DeliveryError, SentRef
from scheduler.log_context import DELIVERY_ID
from scheduler.ratelimit import PlatformLimits, RateLimiter
from scheduler.sendtime import held_until, spread
from store.access import PARKED, cut_off
from store.people import PersonRecord
from store.records import OutboxItem, Settlement
from store.uow import AbstractUnitOfWork

log = logging.getLogger("hplj.delivery")

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
# A platform outage (every send refused before acceptance) may last hours: such refusals may go on
# this many attempts (backoff capped at 10 min: about a day) before the row is given up. Time spent
# held for the recipient's hours costs no attempt.
OUTAGE_ATTEMPTS = 300
SQLITE_LOCK = "dispatcher-lock"
SQLITE_LOCK_TTL = 20.0  # seconds of real time a silent holder keeps the SQLite delivery lock


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    expired: int = 0
    ambiguous: int = 0
    deferred: int = 0  # handed back unsent to wait for a rate-limit slot or a Retry-After
    held: int = 0  # outside the recipient's hours: held to their next open slot (not a failure)
    refused: str | None = None  # why this process could not deliver at all (the SQLite delivery lock)
    last_error: str | None = None  # the last reason a platform gave for refusing a send
    sent_keys: list[str] = field(default_factory=list)

    def add(self, other: DeliveryResult) -> None:
        """Fold another pass into this total."""
        for name in ("sent", "failed", "retried", "expired", "ambiguous", "deferred", "held"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.refused = other.refused or self.refused
        self.last_error = other.last_error or self.last_error
        self.sent_keys.extend(other.sent_keys)


@dataclass(frozen=True)
class _Batch:
    """What one claim of a pass read along with its rows."""

    started: float  # when it was claimed (time.monotonic): no row waits past max_wait from here
    originals: dict[str, OutboxItem]  # rows that updates replace, by key
    revoked: Mapping[str, str]  # recipients cut off (access revoked), with why


def backoff(attempt: int) -> float:
    """Exponential with full jitter, capped at 10 minutes."""
    return float(random.uniform(0, min(600.0, 2.0 ** attempt)))


class DeliveryUnits(Protocol):
    """What the dispatcher is given instead of a database: units of work on the outbox's store
    (`store.uow.UnitOfWorkFactory`), and whether that store is one SQLite file (no SKIP LOCKED:
    one dispatcher at a time, elected through a lock row)."""

    @property
    def is_sqlite(self) -> bool: ...

    def __call__(self, *, urgent: bool = False) -> AbstractUnitOfWork: ...

    def read(self) -> AbstractUnitOfWork: ...


class Dispatcher:
    def __init__(self, uow: DeliveryUnits, ports: Mapping[str, ChatPort], *, owner: str | None = None,
                 limiter: RateLimiter | None = None, limits: Mapping[str, PlatformLimits] | None = None,
                 concurrency: int = 16, max_wait: float | None = None, lease: timedelta | None = None,
                 single: bool = False, scheduler: bool = True, library: Mapping[str, Journey] | None = None,
                 default_tz: str = "UTC", observe: Callable[[str, str], None] | None = None,
                 pace: Callable[[], Awaitable[object]] | None = None) -> None:
        self.uow = uow
        # Awaited before each send: the web process's steps aside while requests wait for their
        # answers (adapters/ackfirst.py), so a burst of clicks is answered before their card updates.
        self.pace = pace
        # Told (platform, outcome) for every row settled: sent, failed, retried, rate_limited, expired
        # (the web process's /metrics counters).
        self.observe = observe or (lambda platform, outcome: None)
        self.single = single  # enforce one dispatcher per SQLite file (the processes `hplj` starts)
        # Runs the scheduler: only such a process may hold the SQLite delivery lock. A web-only
        # process (`hplj serve --no-scheduler`) leaves its rows to the holder and never blocks it.
        self.scheduler = scheduler
        # The journeys whose calendars the send-time check applies (None: no check, e.g. bare tools).
        self.library = library
        self.default_tz = default_tz
        self._refused = False
        self.refused: str | None = None
        self.lease = lease or LEASE
        self.ports = ports
        self.owner = owner or uuid.uuid4().hex[:12]
        self.concurrency = max(1, concurrency)
        # Longest a claimed row may wait for its slot: well inside the lease, so no row is ever
        # sent under a lease that may have expired (and been taken over) meanwhile.
        self.max_wait = self.lease.total_seconds() / 2 if max_wait is None else max_wait
        self._offset: float | None = None  # outbox time base minus time.monotonic()
        # The limiter runs on this dispatcher's clock: the `now` of the current pass plus real
        # time elapsed since, so Retry-After pauses and `next_attempt_at` share one time base.
        self.limiter = limiter or RateLimiter(limits, clock=self.clock)

    async def _hold_sqlite_lock(self, uow: AbstractUnitOfWork) -> bool:
        """SQLite has no SKIP LOCKED: one dispatcher per database file, elected through a row that
        its holder renews on every pass. Another process never dispatches while the holder lives
        and takes over within `SQLITE_LOCK_TTL` seconds of real time once it is gone."""
        wall = datetime.now(UTC)  # liveness is about processes, not the (maybe simulated) outbox time
        holder = await uow.outbox.hold_lock(SQLITE_LOCK, self.owner, wall, timedelta(seconds=SQLITE_LOCK_TTL))
        if holder is not None:
            self.refused = f"another process ({holder}) holds this SQLite file's delivery lock"
            if not self._refused:
                log.warning("another dispatcher (%s) holds this SQLite database's delivery lock; this process "
                            "will not deliver while it runs (run one delivering process per SQLite file)", holder)
                self._refused = True
            return False
        if self._refused:
            log.info("took over this SQLite database's delivery lock")
        self._refused = False
        return True

    async def release(self) -> None:
        """Give up the SQLite delivery lock (a clean shutdown), so another process may take over now."""
        if not (self.single and self.uow.is_sqlite):
            return
        async with self.uow() as uow:
            await uow.outbox.release_lock(SQLITE_LOCK, self.owner)
            await uow.commit()

    def clock(self) -> float:
        """Seconds on the outbox's time base: real time, moved forward to each pass's `now` when that
        is ahead (a simulated clock), never backwards."""
        if self._offset is None:
            return time.time()
        return time.monotonic() + self._offset

    def current(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    async def claim(self, now: datetime, limit: int) -> list[OutboxItem]:
        self.refused = None
        if self.single and self.uow.is_sqlite and not self.scheduler:
            self.refused = "this process runs no scheduler; the scheduler process delivers on SQLite"
            return []
        async with self.uow() as uow:
            if self.single and self.uow.is_sqlite and not await self._hold_sqlite_lock(uow):
                await uow.commit()
                return []
            # From the time it is now, not the pass's `now`: a drain's passes share one `now`
            # and a long drain would otherwise lease rows already expired for other workers.
            rows = await uow.outbox.claim(now, limit, lease_until=max(now, self.current()) + self.lease,
                                          owner=self.owner)
            await uow.commit()
        return rows

    async def deliver(self, now: datetime, *, limit: int = 200, follow: bool = False) -> DeliveryResult:
        """One pass: claim up to `limit` due rows and deliver them.

        `follow`: claim the next `limit` rows while the last few of this pass still wait for their
        slots, and so on until nothing more is due at `now`: a drain then has no gap between passes
        (claim, read, settle, claim again) in which a rate budget would go unused.
        """
        offset = now.timestamp() - time.monotonic()
        self._offset = offset if self._offset is None else max(self._offset, offset)
        result = DeliveryResult()
        rows = await self.claim(now, limit)
        result.refused = self.refused
        if not rows:
            return result
        await _Pass(self, now, limit, follow, result).run(rows)
        return result

    async def _hold(self, groups: dict[str, list[OutboxItem]], people: Mapping[str, Person], now: datetime,
                    result: DeliveryResult) -> None:
        """The send-time check: rows outside their recipient's hours leave `groups` and wait for the
        recipient's next open slot, in order and spaced; once one row of a person waits, the rows
        queued after it wait behind it (only answers to their own action go past)."""
        assert self.library is not None
        held: dict[str, tuple[datetime, list[OutboxItem]]] = {}
        for rid, group in groups.items():
            person = people.get(rid)
            if person is None:
                continue
            keep: list[OutboxItem] = []
            for row in group:
                until = held_until(row, person, self.library, now)
                if rid in held and not row.at_once:
                    until = max(until or now, held[rid][0])
                if until is None:
                    keep.append(row)
                    continue
                slot, waiting = held.get(rid, (until, []))
                held[rid] = (max(slot, until), [*waiting, row])
            groups[rid] = keep
        if not held:
            return
        async with self.uow.read() as uow:
            waiting_until = await uow.outbox.latest_waiting(held)
        for rid, (slot, waiting_rows) in held.items():
            for row, at in zip(waiting_rows, spread(slot, waiting_until.get(rid), len(waiting_rows)), strict=True):
                if row.stale_at is not None and at >= row.stale_at and not row.in_doubt:
                    await self._settle(row, state="expired", error="stale: the moment for this prompt has passed")
                    result.expired += 1
                    continue
                # Not an attempt and not a failure: the row simply waits for the recipient's hours.
                await self._settle(row, state="pending", next_at=at, error=None, attempts=row.attempts - 1)
                result.held += 1

    async def _renew_leases(self, ids: Collection[int]) -> None:
        """Keep the leases of this pass's unsettled rows while the pass runs.

        Without it a pass slower than its lease (a starved process, a platform taking its time)
        would see its rows reclaimed by another dispatcher while it still sends them: the other
        finds nothing in the history yet and sends a second copy.
        """
        period = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(period)
            try:
                async with self.uow() as uow:
                    await uow.outbox.renew(list(ids), self.owner, self.current() + self.lease)
                    await uow.commit()
            except Exception:  # the pass itself reports a broken database; keep trying meanwhile
                log.warning("could not renew delivery leases", exc_info=True)

    async def _slot(self, row: OutboxItem, platform: str, conversation: str, started: float,
                    result: DeliveryResult) -> bool:
        """Wait for the rate limiter; False (row handed back) when the slot is too far away."""
        if not self.limiter.limited(platform):
            return True
        paused = self.limiter.paused_for(platform, conversation)
        if paused <= 0:
            budget = max(0.0, self.max_wait - (time.monotonic() - started))
            if await self.limiter.acquire(platform, conversation, max_wait=budget):
                return True
            paused = max(self.limiter.delay(platform, conversation), 0.001)
        await self._settle(row, state="pending", next_at=self.current() + timedelta(seconds=paused),
                           error=row.error, attempts=row.attempts - 1)
        result.deferred += 1
        return False

    @contextlib.contextmanager
    def _in_flight(self, platform: str, conversation: str) -> Iterator[None]:
        """Around the platform call a limiter slot was taken for: tell the limiter when it ended,
        however it ended (limits counted until the answer, scheduler/ratelimit.py)."""
        try:
            yield
        finally:
            self.limiter.finished(platform, conversation)

    async def _one(self, row: OutboxItem, person: PersonRecord | None, original: OutboxItem | None, now: datetime,
                   result: DeliveryResult, started: float | None = None,
                   people: dict[str, PersonRecord] | None = None) -> None:
        """Deliver one row; a DM it opens is stored, and kept in `people` for the rest of the pass."""
        started = time.monotonic() if started is None else started
        if person is None:
            await self._settle(row, state="failed", error="recipient no longer exists")
            result.failed += 1
            self.observe("unknown", "failed")
            return
        if row.stale_at is not None and now >= row.stale_at and not row.in_doubt:
            await self._settle(row, state="expired", error="stale: the moment for this prompt has passed")
            result.expired += 1
            self.observe(person.platform, "expired")
            return
        port = self.ports.get(person.platform)
        if port is None:
            await self._settle(row, state="failed", error=f"no adapter for platform {person.platform!r}")
            result.failed += 1
            self.observe(person.platform, "failed")
            return
        message = reread(Message.from_json(row.payload), now)  # its day words as read now, however late
        try:
            address = person.address  # how to reach them, as stored (a Teams conversation reference)
            conversation = person.dm_id or await port.open_dm(person.platform_user_id, address=address)
            if not person.dm_id:
                async with self.uow() as uow:
                    await uow.people.change(person.id, dm_id=conversation)
                    await uow.commit()
                person = replace(person, dm_id=conversation)
                if people is not None:
                    people[person.id] = person
            if row.replaces_key:
                if original is None or original.message_id is None:
                    if original is not None and original.state in ("pending", "sending"):
                        later = max(now + timedelta(seconds=5), original.next_attempt_at or now)
                        await self._settle(row, state="pending", next_at=later, error=None)
                        return
                    await self._settle(row, state="cancelled", error="original message was never delivered")
                    return
                if not port.capabilities.update_in_place:
                    await self._settle(row, state="cancelled", error="platform cannot update messages")
                    result.sent += 1
                    return
                # An update is a platform call like a send: it waits for the same rate limiter.
                if not await self._slot(row, person.platform, conversation, started, result):
                    return
                with self._in_flight(person.platform, conversation):
                    await port.update(SentRef(original.conversation_id or conversation, original.message_id),
                                      message, address=address)
                await self._settle(row, state="sent", sent_at=now, conversation=original.conversation_id,
                                   message_id=original.message_id)
                result.sent += 1
                self.observe(person.platform, "sent")
                return
            if row.in_doubt:
                if port.capabilities.reconcile:
                    found = await port.find_delivery(conversation, row.key)
                    if found is not None:
                        await self._settle(row, state="sent", sent_at=now, conversation=found.conversation_id,
                                           message_id=found.message_id)
                        result.sent += 1
                        self.observe(person.platform, "sent")
                        result.sent_keys.append(row.key)
                        return
                else:
                    if row.ambiguous:
                        # Resent once already; another unknown outcome is given up, not repeated.
                        await self._settle(row, state="failed", error="outcome unknown after one resend")
                        result.failed += 1
                        self.observe(person.platform, "failed")
                        return
            if not await self._slot(row, person.platform, conversation, started, result):
                return
            with self._in_flight(person.platform, conversation):
                if row.in_doubt and not port.capabilities.reconcile:
                    # Recorded before the resend leaves: if this process dies too, the next claim sees
                    # the one resend already spent and never sends a third copy.
                    row = replace(row, ambiguous=True)
                    async with self.uow() as uow:
                        await uow.outbox.mark_ambiguous(row.id, self.owner)
                        await uow.commit()
                    result.ambiguous += 1
                ref = await port.send(conversation, message, row.key, address=address)
            await self._settle(row, state="sent", sent_at=now, conversation=ref.conversation_id,
                               message_id=ref.message_id)
            result.sent += 1
            self.observe(person.platform, "sent")
            log.debug("delivered to %s", person.platform)
            result.sent_keys.append(row.key)
        except DeliveryError as exc:
            await self._failed(row, exc, now, result, person.platform, person.dm_id)
        except (TimeoutError, ConnectionError, OSError) as exc:
            await self._failed(row, DeliveryError("in_doubt", type(exc).__name__), now, result, person.platform,
                               person.dm_id)

    async def _failed(self, row: OutboxItem, exc: DeliveryError, now: datetime, result: DeliveryResult,
                      platform: str | None = None, conversation: str | None = None) -> None:
        result.last_error = f"{platform or 'the platform'} refused: {exc.reason}"[:200]
        patient = exc.kind == "retry" and row.attempts < OUTAGE_ATTEMPTS
        if exc.kind == "permanent" or (row.attempts >= MAX_ATTEMPTS and not patient):
            await self._settle(row, state="failed", error=exc.reason[:300])
            result.failed += 1
            self.observe(platform or "unknown", "failed")
            log.warning("delivery %s failed permanently: %s", row.id, exc.reason)
            return
        if exc.kind == "rate_limited":
            delay = max(exc.retry_after or 1.0, 0.0)
            if platform is not None and self.limiter.limited(platform):
                # Counted from when the 429 arrived, not from the start of the pass; the key (and,
                # when the refusal looks workspace-wide, the platform) is paused as long.
                self.limiter.rate_limited(platform, conversation or row.recipient_id, delay)
                # The platform asked us to come back later: that costs no attempt.
                await self._settle(row, state="pending", next_at=self.current() + timedelta(seconds=delay),
                                   error=exc.reason[:300], in_doubt=row.in_doubt and not row.ambiguous,
                                   attempts=row.attempts - 1)
                result.retried += 1
                self.observe(platform, "rate_limited")
                log.debug("rate limited by %s; retrying in %.0fs", platform, delay)
                return
        else:
            delay = backoff(row.attempts)
        # An ambiguous row (no lookup; its one resend is allowed) whose resend was refused before
        # acceptance has not spent that resend: it is no longer in doubt about the resend itself.
        await self._settle(row, state="pending", next_at=now + timedelta(seconds=delay), error=exc.reason[:300],
                           in_doubt=exc.kind == "in_doubt" or (row.in_doubt and not row.ambiguous))
        result.retried += 1
        self.observe(platform or "unknown", "rate_limited" if exc.kind == "rate_limited" else "retried")
        log.debug("%s refused a send (%s); retrying in %.0fs", platform or "the platform", exc.kind, delay)

    async def _settle(self, row: OutboxItem, *, state: str, error: str | None = None,
                      next_at: datetime | None = None, sent_at: datetime | None = None,
                      conversation: str | None = None, message_id: str | None = None,
                      in_doubt: bool | None = None, attempts: int | None = None) -> None:
        how = Settlement(state, error=error, next_attempt_at=next_at, ambiguous=row.ambiguous, attempts=attempts,
                         in_doubt=in_doubt, sent_at=sent_at, conversation_id=conversation, message_id=message_id)
        async with self.uow() as uow:
            await uow.outbox.settle(row.id, self.owner, how)
            await uow.commit()


class _Pass:
    """One delivery pass's state (`Dispatcher.deliver`): the claimed rows queued per conversation,
    one task per conversation, and, with `follow`, more claims as the queues run low."""

    def __init__(self, dispatcher: Dispatcher, now: datetime, limit: int, follow: bool,
                 result: DeliveryResult) -> None:
        self.d = dispatcher
        self.now = now
        self.limit = limit
        self.follow = follow
        self.result = result
        self.gate = asyncio.Semaphore(dispatcher.concurrency)
        self.broken: list[BaseException] = []  # a database error: send nothing more in this pass
        # One conversation's rows go in order (as queued), across claims too; different
        # conversations go side by side.
        self.queues: dict[str, deque[tuple[OutboxItem, _Batch]]] = {}
        self.live: set[int] = set()  # claimed by this pass, not yet settled: their leases are renewed
        self.low_water = max(2 * dispatcher.concurrency, limit // 4)
        self.need_more = asyncio.Event()
        self.people: dict[str, PersonRecord] = {}  # shared by the pass's claims (a DM opened is kept)
        self.tasks: list[asyncio.Task[None]] = []

    async def run(self, rows: list[OutboxItem]) -> None:
        renewal = asyncio.create_task(self.d._renew_leases(self.live))
        feeding: asyncio.Task[None] | None = None
        try:
            await self.add(rows)
            feeding = asyncio.create_task(self.feed())
            await asyncio.wait([feeding])  # no rows are added after it ends
            outcomes: list[BaseException | None] = list(await asyncio.gather(*self.tasks, return_exceptions=True))
            outcomes.append(feeding.exception())
        finally:
            if feeding is not None and not feeding.done():
                feeding.cancel()
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
        for o in outcomes:
            if isinstance(o, BaseException):
                raise o  # rows left `sending` are reclaimed as in doubt when their lease ends

    async def conversation(self, rid: str) -> None:
        queue = self.queues[rid]
        try:
            while queue and not self.broken:  # rows left `sending` when broken: reclaimed as in doubt
                row, batch = queue.popleft()
                try:
                    await self.one(row, batch)
                finally:
                    self.live.discard(row.id)
                    if len(self.live) <= self.low_water:
                        self.need_more.set()
        finally:
            if self.queues.get(rid) is queue:
                del self.queues[rid]
            self.need_more.set()

    async def one(self, row: OutboxItem, batch: _Batch) -> None:
        d = self.d
        if row.recipient_id in batch.revoked:
            await d._settle(row, state=PARKED, error=f"access revoked: {batch.revoked[row.recipient_id]}"[:300])
            return
        person = self.people.get(row.recipient_id)
        if person is not None and person.dm_id and d.limiter.limited(person.platform):
            # Wait for this conversation's next slot without holding a concurrency slot.
            wait = d.limiter.delay(person.platform, person.dm_id)
            if 0 < wait <= d.max_wait - (time.monotonic() - batch.started):
                await asyncio.sleep(wait)
        async with self.gate:
            if d.pace is not None:
                await d.pace()
            if self.broken:
                return
            DELIVERY_ID.set(row.key)  # this group's task: its log lines carry the delivery id
            try:
                await d._one(row, person, batch.originals.get(row.replaces_key or ""), self.now, self.result,
                             batch.started, self.people)
            except Exception as exc:
                self.broken.append(exc)
                raise

    async def add(self, claimed: list[OutboxItem]) -> None:
        d = self.d
        started = time.monotonic()
        self.live.update(r.id for r in claimed)
        async with d.uow.read() as uow:
            fresh = await uow.people.by_ids(r.recipient_id for r in claimed)
            states = {pid: uow.people.state(p) for pid, p in fresh.items()}
            originals = await uow.outbox.by_keys(r.replaces_key or "" for r in claimed)
            # An uninstall or a revoked token (bot/services/access.py): nothing more goes to them.
            revoked = cut_off(await uow.access.active(), fresh)
        for pid, person in fresh.items():
            known = self.people.get(pid)  # a DM this pass opened meanwhile stays known
            self.people[pid] = person if known is None or person.dm_id or not known.dm_id else known
        groups: dict[str, list[OutboxItem]] = {}
        for row in sorted(claimed, key=lambda r: r.id):
            groups.setdefault(row.recipient_id, []).append(row)
        if d.library is not None:
            await d._hold(groups, states, self.now, self.result)
            kept = {r.id for g in groups.values() for r in g}
            self.live.difference_update(r.id for r in claimed if r.id not in kept)  # held: settled
        batch = _Batch(started, originals, revoked)
        for rid, group in groups.items():
            if not group:
                continue
            queue = self.queues.get(rid)
            if queue is None:
                queue = self.queues[rid] = deque()
                self.tasks.append(asyncio.create_task(self.conversation(rid)))
            queue.extend((row, batch) for row in group)

    async def feed(self) -> None:
        while self.follow and not self.broken:
            if len(self.live) > self.low_water:
                self.need_more.clear()
                await self.need_more.wait()  # set as rows settle, and as each conversation's task ends
                continue
            more = await self.d.claim(self.now, self.limit)
            if not more:
                return
            await self.add(more)
