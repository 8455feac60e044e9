"""Run a local fake on an event loop of its own, in its own thread, and stamp sends at the client.

A fake that shares the client's event loop answers only when the client's loop lets it: on a busy
machine two requests the client sent 1.05 s apart can reach the fake's handler 0.98 s apart, and
the fake (rightly, by its own clock) refuses the second with a 429 that the client never earned.
Timing tests therefore

- run the fake in its own thread (`in_own_thread`), so its answers never wait for the client's
  loop, and
- judge the client's pacing on the client's own stamps (`StampingLimiter`: the moment its rate
  limiter released each send, the time base its Retry-After pauses are counted in), not on the
  fake's arrival stamps, so a CI run never fails on load alone.

    async with in_own_thread(FakeSlackApi()) as fake:
        ...  # fake.api_url, fake.calls, etc. as usual; read its records after the work is done
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from journeys.messages import Message
from ports.chat import Address, ChatPort, DeliveryError, SentRef
from scheduler.ratelimit import RateLimiter


class _Startable(Protocol):
    async def start(self) -> Any: ...

    async def stop(self) -> None: ...


F = TypeVar("F", bound=_Startable)


@asynccontextmanager
async def in_own_thread(fake: F) -> AsyncIterator[F]:
    """Start `fake` on a new event loop in a daemon thread; stop it and the thread at exit."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=run, name=f"fake-{type(fake).__name__}", daemon=True)
    thread.start()
    ready.wait(10)

    async def there(aw: Awaitable[Any]) -> Any:
        async def wrapped() -> Any:
            return await aw

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(wrapped(), loop))

    try:
        await there(fake.start())
        yield fake
    finally:
        try:
            await there(fake.stop())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join, 10)


@asynccontextmanager
async def stalls(*, every: float = 0.03, share: float = 0.05, stall: float = 0.35,
                 seed: int = 1) -> AsyncIterator[None]:
    """A busy machine, on purpose: the running event loop is blocked `stall` s in `share` of its
    `every`-s turns (and up to 20 ms in the others). With a fake on the same loop this makes its
    arrival stamps lie by a whole stall; a test that holds under it cannot fail on load alone."""
    rng = random.Random(seed)
    done = asyncio.Event()

    async def hog() -> None:
        while not done.is_set():
            await asyncio.sleep(every)
            time.sleep(stall if rng.random() < share else rng.uniform(0, 0.02))  # noqa: ASYNC251 - blocking is the point

    task = asyncio.create_task(hog())
    try:
        yield
    finally:
        done.set()
        await task


class StampingLimiter(RateLimiter):
    """A `RateLimiter` that keeps, per conversation, the moment it released each send (on its own
    clock: the dispatcher's): the client's own send stamps."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.released: dict[str, list[float]] = {}

    def try_acquire(self, platform: str, key: str) -> float:
        wait = super().try_acquire(platform, key)
        if wait <= 0 and platform in self.limits:
            self.released.setdefault(key, []).append(self._keys[(platform, key)].last_used)
        return wait


@dataclass
class Outcome:
    """One send as the client saw it: to whom, and the 429's Retry-After when it was refused so."""

    conversation: str
    retry_after: float | None = None
    refused: bool = False


@dataclass
class RecordingPort:
    """A `ChatPort` that passes every call to `inner` and records each send's outcome, in order."""

    inner: ChatPort
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.platform = self.inner.platform
        self.capabilities = self.inner.capabilities

    async def send(self, conversation_id: str, message: Message, delivery_id: str, *,
                   address: Address | None = None) -> SentRef:
        out = Outcome(conversation_id)
        self.outcomes.append(out)
        try:
            return await self.inner.send(conversation_id, message, delivery_id, address=address)
        except DeliveryError as exc:
            out.refused = True
            if exc.kind == "rate_limited":
                out.retry_after = exc.retry_after if exc.retry_after is not None else 1.0
            raise

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return getattr(self.inner, name)  # type: ignore[no-any-return]


def paced_sends(limiter: StampingLimiter, port: RecordingPort) -> dict[str, list[tuple[float, Outcome]]]:
    """conversation -> its sends in order, each with the client's release stamp. Fails when a send
    left without a slot from the limiter (the stamps would not cover it)."""
    by_conv: dict[str, list[Outcome]] = {}
    for out in port.outcomes:
        by_conv.setdefault(out.conversation, []).append(out)
    paired: dict[str, list[tuple[float, Outcome]]] = {}
    for conv, outs in by_conv.items():
        stamps = limiter.released.get(conv, [])
        assert len(stamps) == len(outs), (conv, len(stamps), len(outs))  # one slot per send, no bypass
        paired[conv] = list(zip(stamps, outs, strict=True))
    return paired
