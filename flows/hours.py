"""Social Point opening hours: open now? when next? (closed on public holidays)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from flows.turn import SocialPointInfo
from territory.calendar import is_holiday

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _ranges(point: SocialPointInfo, day: date) -> list[tuple[time, time]]:
    if is_holiday(day):
        return []
    spans = point.hours.get(WEEKDAYS[day.weekday()], ())
    return [(time.fromisoformat(s[:5]), time.fromisoformat(s[6:])) for s in spans]


def is_open(point: SocialPointInfo, now: datetime) -> bool:
    """True when `now` (local time) falls inside an opening range of a working day."""
    return any(start <= now.time() < end for start, end in _ranges(point, now.date()))


def next_opening(point: SocialPointInfo, now: datetime) -> datetime | None:
    """The next moment the Social Point opens (None if it has no hours in the next 3 weeks)."""
    for offset in range(21):
        day = now.date() + timedelta(days=offset)
        for start, _end in _ranges(point, day):
            moment = datetime.combine(day, start, tzinfo=now.tzinfo)
            if moment > now:
                return moment
    return None


def point_for(comune: str | None, points: Sequence[SocialPointInfo]) -> SocialPointInfo:
    """The Social Point serving `comune` (the first one when unknown)."""
    return next((p for p in points if comune and comune in p.comuni), points[0])
