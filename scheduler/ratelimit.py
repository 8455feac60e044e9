"""Client-side rate limiting for outbound chat sends: spread a wave instead of collecting 429s.

Each platform has a per-conversation scope (a Slack channel, a Teams conversation) and a global
scope (the Slack workspace, the Teams app in one tenant). A scope is limited by

- sliding windows: "at most `count` sends in any `seconds`" (exact, kept as a log of send times), and
- an optional smooth rate (GCRA token bucket, `rate` per second with `burst`), which is what
  spreads a large wave evenly instead of firing a window's whole budget at once.

A scope whose limit has `until_done` counts each send in its windows from the moment it starts
until its answer came back (`limiter.finished(...)`), and then for the window's length: a request
reaches the platform no later than its answer reaches us, so "fewer than `count` sends in flight or
answered within the last `seconds`" can never let `count` arrivals fall in one window of the
platform's, however late a send left or however long the network or a busy event loop held it.
That is what lets the Teams tenant budget be used at 100% (start-stamped windows need headroom).

`await limiter.acquire(platform, key)` waits until both the key's scope and the platform's global
scope allow one more send, then takes the slot. A 429 is fed back with `limiter.rate_limited(...)`:
the key is paused for `Retry-After` seconds (nothing for that key is released before), and when
several different keys are refused within a short window — the sign of a workspace/tenant-wide
limit, since neither platform says which limit was hit — the global scope is paused too.

Defaults follow the platforms' published limits (Slack: `chat.postMessage` 1/s per channel and a
workspace budget of several hundred per minute; Teams: 7/s, 8/2 s, 60/30 s, 1800/h per
conversation and 30/s per app per tenant). Platforms without limits are not limited. Limits are
per process: with several worker processes, give each its share of the global budget
(`PlatformLimits.global_.scaled(1 / workers)`).

The clock is injectable (seconds, float). The delivery worker passes its own clock so that a
`Retry-After` is honoured in the same time base as the outbox's `next_attempt_at`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace

# Headroom of `until_done` windows (seconds): answers need no network margin, only a hair for the
# platform's clock running a touch faster than ours.
DONE_MARGIN = 0.001
# Seconds of a tenant's budget that may go back to back under its smooth rate after a pause (a
# pass boundary, a stalled event loop): its 1 s window still holds whatever the burst.
TENANT_CATCH_UP = 0.25


@dataclass(frozen=True)
class Limit:
    """The limits of one scope."""

    windows: tuple[tuple[int, float], ...] = ()  # (count, seconds): at most count per any window
    rate: float | None = None  # smooth rate per second (GCRA); None: windows only
    burst: float = 1  # how many may go back to back under `rate` (a fraction: slack for late wake-ups)
    # Windows count a send from its start until `seconds` after its answer (see the module doc).
    until_done: bool = False

    def scaled(self, factor: float) -> Limit:
        """This limit shared by 1/factor processes (each gets `factor` of the budget)."""
        return Limit(tuple((max(1, int(c * factor)), s) for c, s in self.windows),
                     self.rate * factor if self.rate else None, max(1.0, self.burst * factor), self.until_done)


@dataclass(frozen=True)
class PlatformLimits:
    per_key: Limit = field(default_factory=Limit)
    global_: Limit = field(default_factory=Limit)
    # A 429 counts as global when this many distinct keys were refused within `global_window` s.
    global_after: int = 5
    global_window: float = 1.0


class _Scope:
    """Send log and token bucket of one key (or one platform's global budget)."""

    __slots__ = ("in_flight", "last_used", "limit", "logs", "margin", "paused_until", "tat")

    def __init__(self, limit: Limit, margin: float = 0.0) -> None:
        self.limit = limit
        # Answer stamps are never earlier than the platform's arrival stamps: no network headroom.
        self.margin = min(margin, DONE_MARGIN) if limit.until_done else margin
        # Send times on the limiter's clock, or (until_done) answer times on its steady clock.
        self.logs = [deque[float]() for _ in limit.windows]
        self.in_flight = 0  # until_done: sends started and not yet answered
        self.tat = float("-inf")  # GCRA theoretical arrival time
        self.paused_until = float("-inf")
        self.last_used = float("-inf")

    def wait(self, now: float, steady: float) -> float:
        """Seconds until one more send is allowed (0: now). `steady`: the steady clock's now."""
        delay = self.paused_until - now
        t = steady if self.limit.until_done else now
        for (count, seconds), log in zip(self.limit.windows, self.logs):
            while log and t - log[0] >= seconds + self.margin:
                log.popleft()
            over = self.in_flight + len(log) - count  # how many must leave the window first, minus one
            if over >= len(log):
                # Held by sends still in flight: none frees a slot before a whole window after its
                # answer, which comes at the earliest now; look again then.
                delay = max(delay, seconds + self.margin)
            elif over >= 0:
                delay = max(delay, log[over] + seconds + self.margin - t)
        if self.limit.rate:
            interval = 1.0 / self.limit.rate
            delay = max(delay, max(self.tat, now) - (self.limit.burst - 1) * interval - now)
        return max(0.0, delay)

    def take(self, now: float) -> None:
        if self.limit.until_done:
            self.in_flight += 1
        else:
            self._log(now)
        if self.limit.rate:
            self.tat = max(self.tat, now) + 1.0 / self.limit.rate
        self.last_used = now

    def done(self, now: float, steady: float) -> None:
        """A send taken from this scope was answered (or failed): until_done windows count it from
        `steady` (the steady clock: never re-based, so a window is never cut short)."""
        if self.limit.until_done and self.in_flight > 0:
            self.in_flight -= 1
            self._log(steady)
            self.last_used = max(self.last_used, now)

    def _log(self, now: float) -> None:
        for (count, _), log in zip(self.limit.windows, self.logs):
            log.append(now)
            while len(log) > count:
                log.popleft()

    def idle(self, now: float) -> bool:
        horizon = max((s for _, s in self.limit.windows), default=0.0)
        return (self.in_flight == 0 and now - self.last_used > horizon and now >= self.paused_until
                and now >= self.tat)


class RateLimiter:
    def __init__(self, limits: Mapping[str, PlatformLimits] | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, margin: float = 0.05,
                 steady: Callable[[], float] = time.monotonic) -> None:
        """`margin`: seconds added to every window, so network jitter between our clock and the
        platform's arrival stamps never makes a paced send look early. `steady`: the clock of
        `until_done` windows, one that is never moved (the dispatcher's clock is re-based forward
        to each pass's `now`, which would cut such a window short)."""
        self.margin = margin
        self.steady = steady
        self.limits: dict[str, PlatformLimits] = dict(DEFAULT_LIMITS if limits is None else limits)
        self.clock = clock
        self.sleep = sleep
        self._keys: dict[tuple[str, str], _Scope] = {}
        self._global: dict[str, _Scope] = {}
        self._refusals: dict[str, deque[tuple[float, str]]] = {}
        self.waited = 0.0  # total seconds spent waiting (for benchmarks and logs)
        self.global_pauses = 0

    def limited(self, platform: str) -> bool:
        return platform in self.limits

    def configure(self, platform: str, limits: PlatformLimits) -> None:
        self.limits[platform] = limits
        self._global.pop(platform, None)
        for k in [k for k in self._keys if k[0] == platform]:
            del self._keys[k]

    def _scopes(self, platform: str, key: str) -> tuple[_Scope, _Scope]:
        lim = self.limits[platform]
        g = self._global.get(platform)
        if g is None:
            g = self._global[platform] = _Scope(lim.global_, self.margin)
        k = self._keys.get((platform, key))
        if k is None:
            if len(self._keys) > 50_000:
                self._gc()
            k = self._keys[(platform, key)] = _Scope(lim.per_key, self.margin)
        return k, g

    def _gc(self) -> None:
        now = self.clock()
        for k in [k for k, s in self._keys.items() if s.idle(now)]:
            del self._keys[k]

    def delay(self, platform: str, key: str) -> float:
        """Seconds `acquire` would wait right now (0 when a send may go at once)."""
        if platform not in self.limits:
            return 0.0
        now, steady = self.clock(), self.steady()
        k, g = self._scopes(platform, key)
        return max(k.wait(now, steady), g.wait(now, steady))

    def try_acquire(self, platform: str, key: str) -> float:
        """Take a slot if one is free now and return 0; else take nothing and return the wait."""
        if platform not in self.limits:
            return 0.0
        now, steady = self.clock(), self.steady()
        k, g = self._scopes(platform, key)
        wait = max(k.wait(now, steady), g.wait(now, steady))
        if wait <= 0:
            k.take(now)
            g.take(now)
        return wait

    def finished(self, platform: str, key: str) -> None:
        """The send a slot was taken for (`acquire`/`try_acquire`) got its answer or failed: call it
        exactly once per slot taken, however the send ended. Only `until_done` limits use it."""
        if platform not in self.limits:
            return
        now, steady = self.clock(), self.steady()
        for scope in (self._keys.get((platform, key)), self._global.get(platform)):
            if scope is not None:
                scope.done(now, steady)

    async def acquire(self, platform: str, conversation_id: str, *, max_wait: float | None = None) -> bool:
        """Wait for a slot for one send to `conversation_id` and take it (then call `finished`).

        With `max_wait`, gives up (taking nothing, returning False) instead of waiting longer than
        that in total; the caller reschedules the send.
        """
        if platform not in self.limits:
            return True
        start = self.clock()
        while True:
            wait = self.try_acquire(platform, conversation_id)
            if wait <= 0:
                return True
            if max_wait is not None and self.clock() - start + wait > max_wait:
                return False
            self.waited += wait
            await self.sleep(wait)

    def pause(self, platform: str, key: str | None, seconds: float) -> None:
        """Release nothing for `key` (None: for the whole platform) for `seconds`."""
        if platform not in self.limits:
            return
        now = self.clock()
        k, g = self._scopes(platform, key or "")
        scope = g if key is None else k
        scope.paused_until = max(scope.paused_until, now + max(0.0, seconds) + self.margin)

    def rate_limited(self, platform: str, key: str, retry_after: float | None, *,
                     global_: bool | None = None) -> bool:
        """Feed back a 429 for `key`: pause it for Retry-After; returns True if the pause was global.

        `global_` forces the decision; None infers it from refusals of several keys at once.
        """
        if platform not in self.limits:
            return False
        seconds = 1.0 if retry_after is None else max(0.0, retry_after)
        self.pause(platform, key, seconds)
        lim = self.limits[platform]
        now = self.clock()
        recent = self._refusals.setdefault(platform, deque())
        recent.append((now, key))
        while recent and now - recent[0][0] > lim.global_window:
            recent.popleft()
        if global_ is None:
            global_ = len({k for _, k in recent}) >= lim.global_after
        if global_:
            self.pause(platform, None, seconds)
            self.global_pauses += 1
            recent.clear()
        return global_

    def paused_for(self, platform: str, key: str) -> float:
        """Seconds left of a 429 pause on `key` or its platform (0 when none)."""
        if platform not in self.limits:
            return 0.0
        now = self.clock()
        k, g = self._scopes(platform, key)
        return max(0.0, k.paused_until - now, g.paused_until - now)


def slack_limits(per_channel_per_second: float = 1.0, workspace_per_minute: int = 300) -> PlatformLimits:
    """Slack `chat.postMessage`: 1/s per channel (short bursts tolerated, not relied on) and a
    workspace-wide budget of several hundred per minute, paced smoothly (`rate` = budget / 60)."""
    per_channel_per_second = max(0.001, float(per_channel_per_second))
    if per_channel_per_second <= 1:
        per_key = Limit(windows=((1, 1.0 / per_channel_per_second),))
    else:
        per_key = Limit(windows=((max(1, int(per_channel_per_second)), 1.0),))
    per_minute = max(1, int(workspace_per_minute))
    rate = per_minute / 60.0
    return PlatformLimits(per_key=per_key,
                          global_=Limit(windows=((per_minute, 60.0),), rate=rate, burst=max(1, min(20, int(rate)))))


def teams_limits(per_conversation_per_second: int = 7, tenant_per_second: int = 30) -> PlatformLimits:
    """Teams bot sends: 7/s, 8/2 s, 60/30 s, 1800/h per conversation (the published table), and
    `tenant_per_second` per app per tenant."""
    per_conv = max(1, int(per_conversation_per_second))
    tenant = max(1, int(tenant_per_second))
    windows = tuple(sorted({(per_conv, 1.0), (max(per_conv, 8), 2.0), (60, 30.0), (1800, 3600.0)},
                           key=lambda w: w[1]))
    # The connector counts a sliding 1 s window at arrival. The tenant window counts each send
    # until 1 s after its answer (`until_done`), which no send-time jitter can push over the
    # budget, so the tenant is paced at 100% of it; the smooth rate only spreads a wave evenly
    # (short answers on an unclogged event loop) and lets a send that woke late catch up.
    return PlatformLimits(per_key=Limit(windows=windows),
                          global_=Limit(windows=((tenant, 1.0),), rate=float(tenant),
                                        burst=max(1.0, tenant * TENANT_CATCH_UP),
                                        until_done=True))


DEFAULT_LIMITS: dict[str, PlatformLimits] = {"slack": slack_limits(), "teams": teams_limits()}


def configured_limits(settings: object) -> dict[str, PlatformLimits]:
    """Limits from `bot.app.settings.Settings` (HPLJ_SLACK_* / HPLJ_TEAMS_* / HPLJ_DELIVERY_PROCESSES).

    The global budgets (Slack workspace, Teams tenant) are shared: with HPLJ_DELIVERY_PROCESSES=n
    each process takes 1/n of them. Per-conversation limits are not divided (a conversation's
    rows are claimed in order and usually by one process at a time).
    """
    processes = max(1, int(getattr(settings, "delivery_processes", 1) or 1))
    slack = slack_limits(getattr(settings, "slack_rate_per_channel", 1.0),
                         getattr(settings, "slack_workspace_per_minute", 300))
    teams = teams_limits(getattr(settings, "teams_rate_per_conversation", 7),
                         getattr(settings, "teams_tenant_per_second", 30))
    if processes > 1:
        slack = replace(slack, global_=slack.global_.scaled(1 / processes))
        teams = replace(teams, global_=teams.global_.scaled(1 / processes))
    return {"slack": slack, "teams": teams}

