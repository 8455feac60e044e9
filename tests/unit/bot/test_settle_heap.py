"""After start-up the web process freezes its heap and makes full collections rarer (bot/app/wiring.py)."""

from __future__ import annotations

import gc

from bot.app.wiring import settle_heap


def _restore(before: tuple[int, int, int]) -> None:
    gc.unfreeze()
    gc.set_threshold(*before)


def test_the_web_process_runs_full_collections_ten_times_less_often() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        settle_heap(rarer_full_collections=True)
        assert gc.get_threshold() == (700, 10, 100)  # young generations as they were
        assert gc.get_freeze_count() > 0  # what start-up loaded is out of every collection
    finally:
        _restore(before)


def test_the_worker_keeps_the_thresholds_and_a_zero_threshold_is_left_alone() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        settle_heap()
        assert gc.get_threshold() == (700, 10, 10)
        gc.set_threshold(700, 10, 0)
        settle_heap(rarer_full_collections=True)
        assert gc.get_threshold() == (700, 10, 0)
    finally:
        _restore(before)
