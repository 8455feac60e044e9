"""The tenant window counted until the answer (scheduler/ratelimit.py, `until_done`), on injected
clocks: a slot is held while its send is in flight and for a whole window after the answer."""

from __future__ import annotations

from scheduler.ratelimit import Limit, PlatformLimits, RateLimiter, teams_limits


class Clocks:
    """The dispatcher's clock and the steady clock, moved by hand (the first may jump ahead)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.steady = 5.0

    def pass_(self, seconds: float) -> None:
        self.now += seconds
        self.steady += seconds


def limiter(clocks: Clocks, count: int = 3) -> RateLimiter:
    limits = {"teams": PlatformLimits(global_=Limit(windows=((count, 1.0),), until_done=True))}
    return RateLimiter(limits, clock=lambda: clocks.now, steady=lambda: clocks.steady)


def test_a_send_in_flight_holds_its_slot_until_a_window_after_its_answer() -> None:
    clocks = Clocks()
    lim = limiter(clocks)
    for conv in ("a", "b", "c"):
        assert lim.try_acquire("teams", conv) == 0
    clocks.pass_(5.0)  # far longer than the window: the three are still in flight
    assert lim.try_acquire("teams", "d") > 0
    lim.finished("teams", "a")  # answered now: its slot is free a whole window from now
    clocks.pass_(0.99)
    assert lim.try_acquire("teams", "d") > 0
    clocks.pass_(0.02)
    assert lim.try_acquire("teams", "d") == 0
    assert lim.try_acquire("teams", "e") > 0  # b and c are still in flight, d took a's slot


def test_the_dispatcher_clock_jumping_ahead_does_not_shorten_the_window() -> None:
    clocks = Clocks()
    lim = limiter(clocks, count=1)
    assert lim.try_acquire("teams", "a") == 0
    lim.finished("teams", "a")
    clocks.now += 3600  # a pass with a later `now` re-bases the dispatcher's clock
    assert lim.try_acquire("teams", "b") > 0
    clocks.pass_(1.01)
    assert lim.try_acquire("teams", "b") == 0


def test_the_wait_names_when_the_oldest_answer_leaves_the_window() -> None:
    clocks = Clocks()
    lim = limiter(clocks, count=2)
    lim.try_acquire("teams", "a")
    lim.try_acquire("teams", "b")
    lim.finished("teams", "a")
    clocks.pass_(0.4)
    lim.finished("teams", "b")
    clocks.pass_(0.1)
    assert abs(lim.delay("teams", "c") - 0.5) < 0.01  # a's answer was 0.5 s ago


def test_teams_tenant_is_paced_at_its_whole_budget_counted_until_the_answer() -> None:
    tenant = teams_limits(7, 30).global_
    assert tenant.until_done and tenant.rate == 30.0 and tenant.windows == ((30, 1.0),)
    # Shared by two processes, each keeps half, still counted until the answer.
    half = tenant.scaled(0.5)
    assert half.until_done and half.windows == ((15, 1.0),)
