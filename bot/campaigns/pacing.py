"""Paced sending: evenly spaced slots, capped by a sliding one-second window.

Two rules, both checked with the clock at the moment a slot is handed out:

- **Spacing**: slots `1/rate` apart (a little under the provider's limit), so that sends
  are smooth; idle time is not banked (no burst after a pause), only slots missed by a
  wake-up late by less than `catch_up` are made up.
- **Sliding window**: a log of the last `limit` send times; a send is allowed only when the
  `limit`-th previous one is at least one second old. So ANY one-second window (not just a
  calendar second) holds at most `limit` sends, whatever the spacing did: a worker woken late
  by a busy event loop, a `hold` ending, rounding. A token bucket (e.g. `aiolimiter`) lets a
  full bucket go at once after an idle spell, and a bucket refilled while a burst is still
  in the window exceeds the limit in a sliding window: it does not give this guarantee.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

from bot.settings import CampaignsConfig

# Paced a little under the configured rate: the provider counts what arrives in each
# second, not what we sent, and the way there adds jitter (up to ~40 ms measured on a loaded
# 2-core machine). The slack between the grid and the limit absorbs it in steady state ...
HEADROOM = 0.96
# ... and the cap never lets more than the limit out in any CAP_WINDOW seconds, so that
# catching up after late wake-ups stays under it too (limit / CAP_WINDOW is just above the
# grid's rate: room to make up late slots).
CAP_WINDOW = 1.04

# Smallest wait: with a fake clock, `now + (target - now)` may round one ulp short of the
# target; sleeping at least this long always makes progress.
_MIN_SLEEP = 1e-6


class Pacer:
    """Hands out send slots `1/rate` seconds apart, never more than `limit` in one second.

    Shared by every worker of a channel. The time a slot is handed out is the time recorded
    in the window, so the caller must issue its request right after `wait()` returns.

    Args:
        rate: messages per second to aim for (the spacing).
        limit: the most sends allowed in any sliding one-second window (default: `rate`
            rounded down, at least 1).
        window: the sliding window `limit` applies to, in seconds (at least 1): a little
            longer than a second leaves room for network jitter between this process and
            the provider, which counts arrivals.
        catch_up: how far behind the grid a late wake-up may be and still be made up (a
            busy event loop wakes workers a few milliseconds late: those slots are not lost,
            the window cap still applies); further behind, the channel was idle and the
            grid restarts from now.
        clock: monotonic seconds (injectable for tests).
        sleep: the async sleep to wait with.
    """

    def __init__(
        self,
        rate: float,
        *,
        limit: int | None = None,
        catch_up: float = 0.1,
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._rate = rate
        self._limit = max(1, limit if limit is not None else math.floor(rate))
        if window < 1.0:
            raise ValueError("the window must be at least one second")
        self._window = window
        self._catch_up = catch_up
        self._clock = clock
        self._sleep = sleep
        # Slot k is at origin + k / rate: computed, not accumulated, so that rounding never
        # squeezes an extra message into a second.
        self._origin = clock()
        self._slots = 0
        self._held_until = -math.inf
        self._sent: deque[float] = deque(maxlen=self._limit)

    @property
    def limit(self) -> int:
        return self._limit

    def _next(self) -> float:
        return self._origin + self._slots / self._rate

    def _take(self, now: float) -> float:
        """Books the next slot on the grid (restarted when idle or after a hold)."""
        if self._next() < now - self._catch_up:  # was idle: restart, no burst
            self._origin, self._slots = now, 0
        slot = self._next()
        self._slots += 1
        return slot

    async def wait(self) -> None:
        """Waits for this caller's slot and records it. Unused slots are not banked."""
        now = self._clock()
        slot = self._take(now)
        while True:
            if slot > now:
                await self._sleep(max(slot - now, _MIN_SLEEP))
                now = self._clock()
            if self._held_until > now:  # a 429 arrived while we slept: queue up again
                slot = self._take(now)
                continue
            if len(self._sent) == self._limit and self._sent[0] + self._window > now:
                slot = self._sent[0] + self._window  # window full: wait for its oldest send
                continue
            break
        # Decided and recorded with the clock read after the last sleep, with no await in
        # between: a late wake-up can never put an extra send into a one-second window.
        self._sent.append(now)

    def hold(self, seconds: float) -> None:
        """Pauses the whole channel (the provider said 429: every worker must back off)."""
        resume = self._clock() + seconds
        self._held_until = max(self._held_until, resume)
        if self._next() < resume:
            self._origin, self._slots = resume, 0


def rates(config: CampaignsConfig) -> dict[str, float]:
    return {"telegram": config.telegram_rate, "whatsapp": config.whatsapp_rate}


def pacers(config: CampaignsConfig) -> dict[str, Pacer]:
    """One pacer per channel, shared by every worker of a sender: slots spaced at
    HEADROOM x the rate, never more than the configured rate in any CAP_WINDOW seconds."""
    return {
        name: Pacer(rate * HEADROOM, limit=max(1, math.floor(rate)), window=CAP_WINDOW)
        for name, rate in rates(config).items()
    }
