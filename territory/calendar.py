"""Public holidays: the one place the app asks whether a day is one (Social Point hours,
campaign windows)."""

from __future__ import annotations

from datetime import date
from functools import cache

import holidays


@cache
def _italian_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("IT", years=year)


def holiday_name(day: date) -> str | None:
    """The name of the Italian national public holiday on `day`, or None on a working day."""
    name: str | None = _italian_holidays(day.year).get(day)
    return name


def is_holiday(day: date) -> bool:
    return holiday_name(day) is not None
