"""When broadcasts may go out: never in quiet hours, never on an Italian public holiday."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.settings import CampaignsConfig
from territory.calendar import holiday_name

STEP = timedelta(minutes=5)
HORIZON = timedelta(days=15)  # longer than any run of holidays plus quiet hours


def _quiet(config: CampaignsConfig) -> tuple[time, time]:
    start, end = config.quiet_hours.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def closed_reason(now: datetime, config: CampaignsConfig) -> str | None:
    """Why broadcasting is not allowed at `now` (timezone-aware), or None when it is.

    Args:
        now: the instant to check.
        config: quiet hours, their timezone, and whether holidays count.
    """
    local = now.astimezone(ZoneInfo(config.timezone))
    start, end = _quiet(config)
    at = local.time()
    # A range like 20:00-09:00 wraps around midnight.
    quiet = (at >= start or at < end) if start > end else (start <= at < end)
    if quiet:
        return f"orario di silenzio {config.quiet_hours} ({config.timezone})"
    if config.skip_holidays and (name := holiday_name(local.date())):
        return f"festività nazionale ({name})"
    return None


def next_open(now: datetime, config: CampaignsConfig) -> datetime:
    """The first instant from `now` (in STEP increments) when broadcasting is allowed."""
    moment = now
    while closed_reason(moment, config) is not None:
        moment += STEP
        if moment - now > HORIZON:
            raise ValueError("campaigns.quiet_hours leaves no time to send")
    return moment
