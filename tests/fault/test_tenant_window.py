"""The Teams tenant budget used at 100% never lets more than its count reach the connector in any
1 s, whatever the send latency: the dispatcher, the real `TeamsChat` and a connector that stamps
every arrival, with a random delay put in front of (and behind) each send and the client's event
loop stalled now and then.

Why this holds on any machine, so the assertion is on the connector's own arrival record: the
connector stamps a request when it arrives, which is before its answer leaves; the limiter counts a
send from its start until a whole window after it saw that answer (`until_done`); the next send
starts no earlier and arrives later still. Both stamps come from the same monotonic clock.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections import Counter

import pytest

from adapters.teams.client import TeamsChat
from journeys.messages import Message
from ports.chat import Address, ChatPort, SentRef
from scheduler.delivery import Dispatcher
from scheduler.ratelimit import teams_limits
from store.uow import UnitOfWorkFactory
from tests.fakes.teams_connector import FakeConnector
from tests.fakes.threaded import in_own_thread
from tests.fault.test_teams_faults import T0, activity_calls, make_outbox

BUDGET = 10  # sends per second per tenant (a small budget keeps the test short)
KEY_RE = re.compile(r"hello (k\d+\.\d+)")


class JitteryPort:
    """The real port with a random delay before the request leaves and after its answer: sends
    released evenly reach the connector bunched, as on a busy machine or a slow network."""

    def __init__(self, inner: ChatPort, seed: int = 5) -> None:
        self.inner = inner
        self.platform = inner.platform
        self.capabilities = inner.capabilities
        self.rng = random.Random(seed)

    async def _pause(self) -> None:
        await asyncio.sleep(self.rng.choice((0.0, 0.0, 0.02, 0.15, 0.4)))

    async def send(self, conversation_id: str, message: Message, delivery_id: str, *,
                   address: Address | None = None) -> SentRef:
        await self._pause()
        try:
            return await self.inner.send(conversation_id, message, delivery_id, address=address)
        finally:
            await self._pause()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@pytest.mark.slow
async def test_tenant_budget_at_100_percent_never_exceeded_at_arrival_despite_jitter(tmp_path):
    async with in_own_thread(FakeConnector()) as fake:
        # The connector enforces the tenant budget too: any excess would also come back as a 429.
        fake.rate_limit(per_conversation_per_second=7, tenant_budget=BUDGET, tenant_window=1.0, retry_after=1.0)
        db, addresses = await make_outbox(tmp_path / "bot.db", fake, people=20, per_person=2)
        port = JitteryPort(TeamsChat(address_for=lambda pid: addresses.get(pid), timeout=10.0))
        disp = Dispatcher(UnitOfWorkFactory(db), {"teams": port}, limits={"teams": teams_limits(7, BUDGET)})
        try:
            result = await disp.deliver(T0, follow=True)
        finally:
            await db.dispose()
    calls = activity_calls(fake)
    assert result.sent == 40 and len(calls) == 40  # every row sent once, no request refused or repeated
    assert not [c for c in calls if c.status == 429]
    delivered = Counter(m.group(1) for c in fake.sent if (m := KEY_RE.search(json.dumps(c.body))))
    assert len(delivered) == 40 and set(delivered.values()) == {1}
    arrivals = sorted(c.at for c in calls)
    for first, later in zip(arrivals, arrivals[BUDGET:]):
        assert later - first >= 1.0, (first, later)  # at most BUDGET arrivals in any 1 s
    assert disp.limiter.waited > 0  # the budget, not the senders' speed, held the sends back
