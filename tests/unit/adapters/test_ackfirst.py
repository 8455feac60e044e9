"""AckFirstQueue: the work after an ack runs once each, in order, bounded, and after the loop's
other work when the loop is busy."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import pytest

from adapters.ackfirst import AckFirstQueue, step_aside

log = logging.getLogger("test.ackfirst")


async def test_every_job_runs_once_in_arrival_order_and_drain_waits_for_them() -> None:
    queue = AckFirstQueue(1, log)
    done: list[int] = []

    async def job(n: int) -> None:
        await asyncio.sleep(0)
        done.append(n)

    for n in range(20):
        await queue.put(job, n)
    await queue.drain()
    assert done == list(range(20))
    assert len(queue) == 0


async def test_no_more_than_workers_jobs_at_once() -> None:
    queue = AckFirstQueue(3, log)
    running = peak = 0
    release = asyncio.Event()

    async def job() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    for _ in range(10):
        await queue.put(job)
    while running < 3:
        await asyncio.sleep(0.001)
    release.set()
    await queue.drain()
    assert peak == 3


async def a_full_queue() -> tuple[AckFirstQueue, asyncio.Event, list[str], Callable[[str], Awaitable[None]]]:
    """One worker busy with job "a" until `release` is set, job "b" waiting: the queue (1) is full."""
    queue = AckFirstQueue(1, log, max_backlog=1)
    release = asyncio.Event()
    done: list[str] = []

    async def job(name: str) -> None:
        await release.wait()
        done.append(name)

    await queue.put(job, "a")  # taken by the runner at once
    while len(queue):
        await asyncio.sleep(0.001)
    await queue.put(job, "b")  # waits in the queue: it is full now
    return queue, release, done, job


async def test_a_full_queue_makes_put_wait_until_a_job_starts() -> None:
    queue, release, done, job = await a_full_queue()
    third = asyncio.create_task(queue.put(job, "c"))
    await asyncio.sleep(0.01)
    assert not third.done()  # the caller (an ack) waits rather than losing the work
    release.set()
    await third
    await queue.drain()
    assert done == ["a", "b", "c"]


async def test_a_failing_job_is_logged_and_the_next_one_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    queue = AckFirstQueue(1, log)
    done: list[str] = []

    async def bad() -> None:
        raise RuntimeError("boom")

    async def good() -> None:
        done.append("good")

    await queue.put(bad)
    await queue.put(good)
    with caplog.at_level(logging.ERROR, logger="test.ackfirst"):
        await queue.drain()
    assert done == ["good"]
    assert "work after the response failed" in caplog.text


async def test_a_busy_loop_defers_the_job_which_still_runs_within_max_defer() -> None:
    queue = AckFirstQueue(1, log, max_defer=0.1)
    stop = False

    async def hog() -> None:  # a loop turn that takes 10 ms, again and again (a flood of requests)
        while not stop:
            busy_until = time.perf_counter() + 0.01
            while time.perf_counter() < busy_until:
                pass
            await asyncio.sleep(0)

    done: list[str] = []

    async def job() -> None:
        done.append("job")

    hogging = asyncio.create_task(hog())
    await asyncio.sleep(0)
    await queue.put(job)
    await queue.drain()
    stop = True
    await hogging
    assert done == ["job"]  # ran although the loop never became quick
    assert queue.deferred >= 1  # but stepped aside first


def test_work_left_queued_when_an_event_loop_ended_runs_on_the_next_drain() -> None:
    queue = AckFirstQueue(1, log)
    done: list[str] = []

    async def job() -> None:
        done.append("job")

    asyncio.run(queue.put(job))  # the loop ends (its runner cancelled) before the job starts
    assert done == [] and len(queue) == 1
    asyncio.run(queue.drain(timeout=5))
    assert done == ["job"]


async def test_an_urgent_job_starts_at_once_ahead_of_a_full_queue_and_drain_waits_for_it() -> None:
    queue, release, done, _job = await a_full_queue()

    async def urgent() -> None:
        await asyncio.sleep(0)
        done.append("urgent")

    await queue.put(urgent, urgent=True)  # does not wait for room
    for _ in range(50):
        if done:
            break
        await asyncio.sleep(0.001)
    assert done == ["urgent"]  # while the queued jobs still wait
    release.set()
    await queue.drain()
    assert done == ["urgent", "a", "b"]


async def test_step_aside_waits_while_the_loop_is_busy_and_still_returns() -> None:
    stop = False

    async def hog() -> None:  # loop turns of 10 ms, again and again
        while not stop:
            busy_until = time.perf_counter() + 0.01
            while time.perf_counter() < busy_until:
                pass
            await asyncio.sleep(0)

    hogging = asyncio.create_task(hog())
    await asyncio.sleep(0)
    waited = await step_aside(max_defer=0.1)
    stop = True
    await hogging
    assert waited >= 1  # stepped aside, and still came back (max_defer)
