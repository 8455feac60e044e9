"""Delivery through a fake Slack over real HTTP that answers 429s and 5xx/drops/timeouts: nothing lost,
nothing doubled, no request before its Retry-After, the per-channel limit never exceeded."""

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
from tests.fakes.slack_api import FakeSlackApi, Fault
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

    def _rate_limit(self, method, params):  # type: ignore[no-untyped-def]
        if method != "chat.postMessage":
            return None
        t, channel = time.monotonic(), str(params.get("channel"))
        if self.rng.random() < self.p429:
            ra = self.rng.choice((1, 2))
            self.log.append((t, channel, 429, ra))
            return ra
        limited = super()._rate_limit(method, params)
        self.log.append((t, channel, 429 if limited else 200, limited))
        if limited:
            self.own_limit_hits = getattr(self, "own_limit_hits", 0) + 1
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
    async with TimedSlack(p429=0.2) as fake:
        db = await make_outbox(tmp_path / "bot.db", fake, people=60, per_person=3)
        disp = Dispatcher(db, {"slack": SlackChat("xoxb-test", api_url=fake.api_url)}, limits=LIMITS)
        # The fake shares the client's event loop, so its arrival stamps can lag by a loop turn:
        # pace with a wider margin than production's 50 ms so the stamps prove the spacing.
        disp.limiter.margin = 0.2
        try:
            await drain(db, disp, 120)
            assert await states(db) == {"sent": 180}
        finally:
            await db.dispose()
        posted = accepted_posts(fake)
        assert len(posted) == 180 and set(posted.values()) == {1}  # 0 lost, 0 doubled
        injected = [e for e in fake.log if e[2] == 429]
        assert len(injected) >= 20  # the faults really happened
        assert getattr(fake, "own_limit_hits", 0) == 0  # the client never exceeded 1/s per channel
        by_channel: dict[str, list[tuple[float, str, int, int | None]]] = {}
        for e in fake.log:
            by_channel.setdefault(e[1], []).append(e)
        slack = 0.05  # scheduling jitter between the client's clock and the server's arrival stamp
        for events in by_channel.values():
            for a, b in itertools.pairwise(events):
                assert b[0] - a[0] >= 1.0 - slack, (a, b)  # per-channel limit
                if a[2] == 429:
                    assert b[0] - a[0] >= a[3] - slack, (a, b)  # nothing before Retry-After


@pytest.mark.slow
async def test_5xx_before_and_after_acceptance_lose_and_double_nothing(tmp_path):
    async with TimedSlack() as fake:
        fake.fail("chat.postMessage", Fault.http(500), Fault.http(503), Fault.drop_before_accept(),
                  Fault.drop_after_accept(), Fault.http(500), Fault.timeout_after_accept(2.5),
                  Fault.drop_after_accept(), Fault.http(503), Fault.timeout_after_accept(2.5))
        fake.accept_then = [502, 504, 502]
        db = await make_outbox(tmp_path / "bot.db", fake, people=30, per_person=2)
        # a 1 s client timeout: the two stalled answers (accepted, answered after 2.5 s) time out
        client = make_web_client("xoxb-test", fake.api_url, timeout=1)
        disp = Dispatcher(db, {"slack": SlackChat("xoxb-test", client=client)}, limits=LIMITS)
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
