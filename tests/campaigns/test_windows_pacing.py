"""Quiet hours, holidays and the pacer, with frozen clocks."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.campaigns.pacing import Pacer
from bot.campaigns.windows import closed_reason, next_open
from bot.settings import CampaignsConfig

ROME = ZoneInfo("Europe/Rome")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ROME)


@pytest.mark.parametrize(
    ("moment", "closed"),
    [
        ("2026-11-23T09:00", False),
        ("2026-11-23T19:59", False),
        ("2026-11-23T20:00", True),
        ("2026-11-24T03:00", True),
        ("2026-11-24T08:59", True),
        ("2026-12-25T12:00", True),  # Natale
        ("2027-04-25T12:00", True),  # Festa della Liberazione
        ("2026-06-02T12:00", True),  # Festa della Repubblica
    ],
)
def test_closed_reason(moment: str, closed: bool) -> None:
    assert (closed_reason(at(moment), CampaignsConfig()) is not None) is closed


def test_next_open_skips_the_night_and_the_holidays() -> None:
    config = CampaignsConfig()
    assert next_open(at("2026-11-23T21:00"), config) == at("2026-11-24T09:00")
    # 24 Dec evening -> 25 and 26 December are holidays -> 27 December at 9.
    assert next_open(at("2026-12-24T20:30"), config) == at("2026-12-27T09:00")


def test_quiet_hours_inside_one_day() -> None:
    config = CampaignsConfig(quiet_hours="12:00-14:00", skip_holidays=False)
    assert closed_reason(at("2026-12-25T13:00"), config) is not None
    assert closed_reason(at("2026-12-25T20:00"), config) is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sends: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pacer_never_exceeds_the_rate_and_does_not_bank_idle_time() -> None:
    clock = FakeClock()
    pacer = Pacer(30, clock=clock, sleep=clock.sleep)

    async def send(n: int) -> None:
        for _ in range(n):
            await pacer.wait()
            clock.sends.append(clock.now)

    asyncio.run(send(90))
    per_second = [sum(1 for t in clock.sends if s <= t < s + 1) for s in range(100, 103)]
    assert per_second == [30, 30, 30]
    clock.now += 10  # idle: no burst afterwards
    start = clock.now
    asyncio.run(send(2))
    assert clock.sends[-1] - start == pytest.approx(1 / 30)


def test_hold_pauses_every_worker() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock=clock, sleep=clock.sleep)
    pacer.hold(5)
    asyncio.run(pacer.wait())
    assert clock.now == pytest.approx(105)
