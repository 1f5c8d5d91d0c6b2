"""The resident's "typing…" while an operator writes (POST /operator/handoffs/{id}/typing).

Throttled per case in this process's memory: the indicator is only cosmetic, so losing the
timestamps on a restart, or each web worker keeping its own (at most one call per worker
every THROTTLE_SECONDS), costs nothing worth a database write per keystroke burst.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from bot.channels.base import show_typing
from bot.console import actions
from bot.console.auth import Principal
from bot.services import Services

log = logging.getLogger(__name__)
THROTTLE_SECONDS = 4.0  # Telegram shows the action for about 5 s
_MAX_CASES = 1000  # bounds the memory: older entries are dropped first


class Throttle:
    """At most one call per key every `seconds` (monotonic clock)."""

    def __init__(self, seconds: float = THROTTLE_SECONDS) -> None:
        self._seconds = seconds
        self._last: dict[int, float] = {}

    def allow(self, key: int) -> bool:
        now = time.monotonic()
        if now - self._last.get(key, float("-inf")) < self._seconds:
            return False
        if len(self._last) >= _MAX_CASES:
            self._last = {k: t for k, t in self._last.items() if now - t < self._seconds}
        self._last[key] = now
        return True


_throttle = Throttle()


def _address(sessions: sessionmaker[Session], who: Principal, handoff_id: int) -> tuple[str, str]:
    with sessions() as session:
        _handoff, conv = actions.held(session, who, handoff_id)
        return conv.channel, conv.address


async def typing(services: Services, who: Principal, handoff_id: int) -> None:
    """Shows "typing…" on the resident's channel, for an operator who holds the case.

    Raises:
        actions.NotVisible: not among the operator's cases (404).
        actions.Denied: visible but not held by this operator (the route answers 403).
    """
    channel, address = await run_in_threadpool(_address, services.sessions, who, handoff_id)
    if not _throttle.allow(handoff_id):
        return
    adapter = services.channels.get(channel)
    try:
        await show_typing(adapter, address)
    except Exception as exc:  # cosmetic: never the operator's problem
        log.debug("typing not shown channel=%s: %s", channel, type(exc).__name__)
