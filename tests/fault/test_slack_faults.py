"""Delivery through a fake Slack over real HTTP that answers 429s and 5xx/drops/timeouts: nothing lost,
nothing doubled, no request before its Retry-After, the per-channel limit never exceeded (judged on
the client's own send stamps; the fake runs in its own thread)."""

from __future__ import annotations

import itertools
import random
import time

import pytest
from aiohttp import web
from sqlalchemy import func, select

from adapters.slack.client import SlackChat, make_web_client
from journeys.messages import Message
from scheduler.delivery import Dispatcher
from scheduler.ratelimit import DEFAULT_LIMITS, Limit, PlatformLimits
from store.db import Database
from store.models import OutboxRow, PersonRow
from store.uow import UnitOfWorkFactory
from tests.fakes.slack_api import FakeSlackApi, Fault
from tests.fakes.threaded import RecordingPort, StampingLimiter, in_own_thread, paced_sends, stalls
from tests.fault.conftest import DUE_AT, accepted_posts, drain_outbox

LIMITS = {"slack": PlatformLimits(per_key=DEFAULT_LIMITS["slack"].per_key, global_=Limit(rate=500.0, burst=50),
                                  global_after=10**9)}


class TimedSlack(FakeSlackApi):
    """Records the arrival time of every chat.postMessage; answers a share of them 429 (injected
    on top of the fake's own 1/s-per-channel limit) and some 502/504 after accepting them."""

    def __init__(self, *, p429: float = 0.0, seed: int = 7) -> None:
        super().__init__(per_channel_per_sec=1)
        self.p429 = p429
        self.rng = random.Random(seed)
        self.log: list[tuple[float, str, int, int | None]] = []  # (t, channel, status, retry_after)
        self.accept_then: list[int] = []
        self.own_limit: list[tuple[float, str, int, int | None]] = []

    def _rate_limit(self, method, params):  # type: ignore[no-untyped-def]
        if method != "chat.postMessage":
            return None
        t, channel = time.monotonic(), str(params.get("channel"))
        if self.rng.random() < self.p429:
            ra = self.rng.choice((1, 2))
            self.log.append((t, channel, 429, ra))
            return ra
        limited = super()._rate_limit(method, params)
        entry = (t, channel, 429 if limited else 200, limited)
        self.log.append(entry)
        if limited:
            self.own_limit.append(entry)  # as Slack would: the client is judged on its own stamps
        return limited

    def _handle(self, method, p):  # type: ignore[no-untyped-def]
        out = super()._handle(method, p)
        if method == "chat.postMessage" and self.accept_then:
            status = self.accept_then.pop(0)
            raise {502: web.HTTPBadGateway, 504: web.HTTPGatewayTimeout}[status]()
        return out


async def make_outbox(path, fake: FakeSlackApi, people: int, per_person: int) -> Database:
    db = Database(f"sqlite:///{path}")
    await db.create_all()
    async with db.write() as s:
        for i in range(people):
            uid = f"U{i:05d}"
            fake.add_user(uid)
            fake.channels["D" + uid] = uid
            s.add(PersonRow(id=f"p{i}", platform="slack", platform_user_id=uid, name=uid, dm_id="D" + uid,
                            created_at=DUE_AT, greeted=True))
        for j in range(per_person):
            for i in range(people):
                s.add(OutboxRow(key=f"k{i}.{j}", recipient_id=f"p{i}", payload=Message(f"p{i}", f"hello {j}").to_json(),
                                state="pending", attempts=0, next_attempt_at=DUE_AT, created_at=DUE_AT))
    return db


async def drain(db: Database, disp: Dispatcher, timeout: float) -> None:
    await drain_outbox(db, disp, DUE_AT, timeout)


async def states(db: Database) -> dict[str, int]:
    async with db.read() as s:
        return dict((await s.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state))).all())


@pytest.mark.slow
async def test_20_percent_429s_all_delivered_never_before_retry_after(tmp_path):
    # The fake answers from its own thread and the pacing is judged on the client's own send stamps
    # (tests/fakes/threaded.py): a busy machine can delay a request, never fail this test.
    async with stalls(), in_own_thread(TimedSlack(p429=0.2)) as fake:  # held under a busy machine's stalls
        db = await make_outbox(tmp_path / "bot.db", fake, people=60, per_person=3)
        port = RecordingPort(SlackChat("xoxb-test", api_url=fake.api_url))
        disp = Dispatcher(UnitOfWorkFactory(db), {"slack": port}, limiter=StampingLimiter(LIMITS, clock=lambda: disp.clock()))
        try:
            await drain(db, disp, 120)
            assert await states(db) == {"sent": 180}
        finally:
            await db.dispose()
    posted = accepted_posts(fake)
    assert len(posted) == 180 and set(posted.values()) == {1}  # 0 lost, 0 doubled
    injected = [e for e in fake.log if e[2] == 429 and e[3] is not None and e not in fake.own_limit]
    assert len(injected) >= 20  # the faults really happened
    assert len(port.outcomes) == 180 + sum(o.refused for o in port.outcomes)
    paced = paced_sends(disp.limiter, port)
    assert len(paced) == 60  # every conversation's sends carry the client's stamps
    for sends in paced.values():
        for (t_a, a), (t_b, _b) in itertools.pairwise(sends):
            assert t_b - t_a >= 1.0, (t_a, t_b)  # 1/s per channel, by the client's own clock
            if a.retry_after is not None:
                assert t_b - t_a >= a.retry_after, (t_a, t_b, a)  # nothing before Retry-After


@pytest.mark.slow
async def test_5xx_before_and_after_acceptance_lose_and_double_nothing(tmp_path):
    async with in_own_thread(TimedSlack()) as fake:
        fake.fail("chat.postMessage", Fault.http(500), Fault.http(503), Fault.drop_before_accept(),
                  Fault.drop_after_accept(), Fault.http(500), Fault.timeout_after_accept(2.5),
                  Fault.drop_after_accept(), Fault.http(503), Fault.timeout_after_accept(2.5))
        fake.accept_then = [502, 504, 502]
        db = await make_outbox(tmp_path / "bot.db", fake, people=30, per_person=2)
        # a 1 s client timeout: the two stalled answers (accepted, answered after 2.5 s) time out
        client = make_web_client("xoxb-test", fake.api_url, timeout=1)
        disp = Dispatcher(UnitOfWorkFactory(db), {"slack": SlackChat("xoxb-test", client=client)}, limits=LIMITS)
        try:
            await drain(db, disp, 120)
            assert await states(db) == {"sent": 60}
            async with db.read() as s:
                assert (await s.execute(select(func.count()).select_from(OutboxRow).where(
                    OutboxRow.in_doubt.is_(True)))).scalar_one() == 0
        finally:
            await db.dispose()
        posted = accepted_posts(fake)
        assert len(posted) == 60 and set(posted.values()) == {1}
        assert fake.calls_to("conversations.history")  # in-doubt sends were reconciled, not resent
