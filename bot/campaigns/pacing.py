"""Paced sending: evenly spaced slots, so that no second carries more than the rate.

A token bucket would allow a burst of a full second's worth at once (and providers count
bursts); equal spacing keeps every one-second window at or under the rate, and the average
close to it as long as the API answers faster than the concurrency allows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class Pacer:
    """Hands out send slots `1/rate` seconds apart, shared by every worker of a channel.

    Args:
        rate: messages per second.
        clock: monotonic seconds (injectable for tests).
        sleep: the async sleep to wait with.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._rate = rate
        self._clock = clock
        self._sleep = sleep
        # Slot k is at origin + k / rate: computed, not accumulated, so that rounding never
        # squeezes an extra message into a second.
        self._origin = clock()
        self._slots = 0

    def _next(self) -> float:
        return self._origin + self._slots / self._rate

    async def wait(self) -> None:
        """Waits for this caller's slot. Unused slots are not banked (no catch-up bursts)."""
        now = self._clock()
        if self._next() < now:
            self._origin, self._slots = now, 0
        slot = self._next()
        self._slots += 1
        if slot > now:
            await self._sleep(slot - now)

    def hold(self, seconds: float) -> None:
        """Pauses the whole channel (the provider said 429: every worker must back off)."""
        resume = self._clock() + seconds
        if self._next() < resume:
            self._origin, self._slots = resume, 0
