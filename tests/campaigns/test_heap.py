"""The heap frozen out of the collector's sight during sends, given back by the last one."""

from __future__ import annotations

import gc
import threading

from bot.campaigns import heap


def test_the_last_of_two_overlapping_sends_gives_the_heap_back() -> None:
    assert gc.get_freeze_count() == 0
    first_started, second_ended = threading.Event(), threading.Event()
    seen: dict[str, int] = {}

    def first() -> None:
        with heap.out_of_sight():
            first_started.set()
            second_ended.wait(10)
            seen["after the second ended"] = gc.get_freeze_count()

    thread = threading.Thread(target=first)
    thread.start()
    first_started.wait(10)
    with heap.out_of_sight():  # a second send, in another thread of the same process
        seen["during both"] = gc.get_freeze_count()
    second_ended.set()
    thread.join(10)
    assert seen["during both"] > 10_000
    # Still frozen (objects freed meanwhile leave the frozen set, so the count only shrinks).
    assert seen["after the second ended"] > seen["during both"] / 2
    assert gc.get_freeze_count() == 0
