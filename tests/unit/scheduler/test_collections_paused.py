"""A tick raises the youngest generation's collection threshold only while it runs."""

from __future__ import annotations

import gc

from scheduler.collections_paused import TICK_THRESHOLD, fewer_collections


def test_raised_during_the_block_and_restored_by_the_last_to_leave() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with fewer_collections():
            assert gc.get_threshold() == (TICK_THRESHOLD, 10, 10)
            with fewer_collections():  # a nested (or concurrent) tick shares the raise
                assert gc.get_threshold() == (TICK_THRESHOLD, 10, 10)
            assert gc.get_threshold() == (TICK_THRESHOLD, 10, 10)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_restored_after_an_error_and_never_lowered() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        try:
            with fewer_collections():
                raise ValueError("a failing tick")
        except ValueError:
            pass
        assert gc.get_threshold() == (700, 10, 10)
        gc.set_threshold(100_000, 5, 5)  # someone tuned it higher: left alone
        with fewer_collections():
            assert gc.get_threshold() == (100_000, 5, 5)
        assert gc.get_threshold() == (100_000, 5, 5)
    finally:
        gc.set_threshold(*before)
