"""The pacer with a fake clock: no sliding one-second window over the limit, average near it."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Coroutine
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.campaigns.pacing import CAP_WINDOW, HEADROOM, Pacer


class Clock:
    """Virtual time: `sleep` wakes at its deadline plus some lateness (a loaded event loop),
    and `run` advances the time to the earliest wake-up once every task is blocked."""

    def __init__(self, lateness: list[float] | None = None) -> None:
        self.now = 1000.0
        self._lateness = list(lateness or [])
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        late = self._lateness.pop(0) if self._lateness else 0.0
        future = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._timers, (self.now + seconds + late, self._seq, future))
        await future

    def run(self, *workers: Coroutine[Any, Any, None]) -> None:
        async def drive() -> None:
            tasks = [asyncio.ensure_future(w) for w in workers]
            while not all(t.done() for t in tasks):
                for _ in range(20):  # let every runnable task reach its next sleep
                    await asyncio.sleep(0)
                if self._timers:
                    when, _, future = heapq.heappop(self._timers)
                    self.now = max(self.now, when)
                    future.set_result(None)
            for t in tasks:
                t.result()

        asyncio.run(drive())


def busiest_window(times: list[float], seconds: float = 1.0) -> int:
    """The most sends in any half-open window [t, t + seconds)."""
    times = sorted(times)
    peak, j = 0, 0
    for i, t in enumerate(times):
        # `times[j] + seconds <= t`, as the pacer compares: `times[j] <= t - seconds` rounds
        # differently and can count a send exactly one window later as inside it.
        while times[j] + seconds <= t:
            j += 1
        peak = max(peak, i - j + 1)
    return peak


def test_evenly_spaced_at_the_rate() -> None:
    clock = Clock()
    pacer = Pacer(30, clock=clock, sleep=clock.sleep)
    sends: list[float] = []

    async def go() -> None:
        for _ in range(300):
            await pacer.wait()
            sends.append(clock.now)

    clock.run(go())
    assert busiest_window(sends) == 30
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert min(gaps) == pytest.approx(1 / 30, abs=1e-5)


def test_late_wakeups_never_put_an_extra_send_in_a_window() -> None:
    # Eight workers woken 0.5 s late, then on-time slots after them: the old grid-only
    # pacer let 38 sends into one sliding second. The window log refuses them.
    clock = Clock(lateness=[0.0] * 40 + [0.5] * 8)
    pacer = Pacer(29.1, limit=30, clock=clock, sleep=clock.sleep)
    sends: list[float] = []

    async def worker() -> None:
        for _ in range(40):
            await pacer.wait()
            sends.append(clock.now)

    clock.run(*(worker() for _ in range(8)))
    assert busiest_window(sends) <= 30


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=100),
    headroom=st.floats(min_value=0.5, max_value=1.5),
    window=st.floats(min_value=1.0, max_value=1.1),
    workers=st.integers(min_value=1, max_value=8),
    steps=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=1.5),  # idle time before this acquisition
            st.floats(min_value=0, max_value=0.5),  # how late the next wake-up is
            st.one_of(st.none(), st.floats(min_value=0, max_value=2)),  # a 429 hold
        ),
        min_size=1,
        max_size=150,
    ),
)
@example(  # found by hypothesis: a send exactly one (non-integer) window after another
    limit=1,
    headroom=1.0,
    window=1.09375,
    workers=1,
    steps=[(1.0, 0.0, None)]
    + [(0.0, 0.0, None)] * 10
    + [
        (1.5, 0.0, 2.0),
        (1.1794859539996754, 0.0, 1.0),
        (1.3877418861519795, 0.0, 1.6095132423468823),
    ]
    + [(0.9995276183912407, 0.0, 1.4213841163367598), (0.0, 0.0, None)],
)
def test_no_sliding_second_ever_exceeds_the_limit(
    limit: int,
    headroom: float,
    window: float,
    workers: int,
    steps: list[tuple[float, float, float | None]],
) -> None:
    """Any spacing (even faster than the limit), any lateness, holds and idle spells, any
    number of concurrent workers: at most `limit` sends in every one-second window."""
    clock = Clock(lateness=[late for _, late, _ in steps])
    pacer = Pacer(limit * headroom, limit=limit, window=window, clock=clock, sleep=clock.sleep)
    sends: list[float] = []
    queue = list(steps)

    async def worker() -> None:
        while queue:
            idle, _, hold = queue.pop(0)
            if idle:
                await clock.sleep(idle)
            if hold is not None:
                pacer.hold(hold)
            await pacer.wait()
            sends.append(clock.now)

    clock.run(*(worker() for _ in range(workers)))
    assert len(sends) == len(steps)
    assert busiest_window(sends) <= limit
    assert busiest_window(sends, window) <= limit
    assert sends == sorted(sends)  # slots are handed out in order


@pytest.mark.parametrize(("limit", "workers"), [(30, 16), (80, 16), (80, 1)])
def test_the_average_stays_above_95_percent(limit: int, workers: int) -> None:
    # As the sender builds it: spacing at HEADROOM x the limit, the cap over CAP_WINDOW.
    clock = Clock(lateness=[0.0] * 50 + [0.01, 0.0, 0.02, 0.0, 0.005] * 400)
    pacer = Pacer(limit * HEADROOM, limit=limit, window=CAP_WINDOW, clock=clock, sleep=clock.sleep)
    sends: list[float] = []
    start = clock.now

    async def worker() -> None:
        while clock.now < start + 20:
            await pacer.wait()
            sends.append(clock.now)

    clock.run(*(worker() for _ in range(workers)))
    average = (len(sends) - 1) / (sends[-1] - sends[0])
    assert average >= 0.95 * limit
    assert busiest_window(sends) <= limit


def test_idle_time_is_not_banked() -> None:
    clock = Clock()
    pacer = Pacer(30, clock=clock, sleep=clock.sleep)

    after: list[float] = []

    async def burst(n: int, out: list[float]) -> None:
        for _ in range(n):
            await pacer.wait()
            out.append(clock.now)

    clock.run(burst(5, []))
    clock.now += 10
    clock.run(burst(3, after))
    assert after[1] - after[0] == pytest.approx(1 / 30, abs=1e-5)
    assert after[2] - after[1] == pytest.approx(1 / 30, abs=1e-5)


def test_hold_pauses_every_worker_and_the_window_still_holds() -> None:
    clock = Clock()
    pacer = Pacer(10, clock=clock, sleep=clock.sleep)
    sends: list[float] = []

    async def go() -> None:
        for i in range(30):
            if i == 5:
                pacer.hold(2)
            await pacer.wait()
            sends.append(clock.now)

    clock.run(go())
    assert sends[5] - sends[4] >= 2.0 - 0.1 - 1e-9
    assert busiest_window(sends) <= 10


def test_limit_defaults_to_the_rate_rounded_down() -> None:
    assert Pacer(29.1).limit == 29
    assert Pacer(0.5).limit == 1
    with pytest.raises(ValueError, match="positive"):
        Pacer(0)
    with pytest.raises(ValueError, match="one second"):
        Pacer(10, window=0.5)
