"""Server-sent events: a polling loop over the database, one stream per open page.

Polling the database (not an in-process bus) is what lets several web workers serve the
console: whichever process wrote the change, every stream sees it within one interval.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import Request
from fastapi.responses import StreamingResponse

POLL_SECONDS = 1.5
# Streams end after a while and the browser's EventSource reconnects by itself; this bounds
# how long a closed tab whose disconnect went unnoticed can keep a worker busy.
MAX_SECONDS = 300.0

Poll = Callable[[], Awaitable[list[tuple[str, str]]]]


def encode(event: str, data: str) -> str:
    """One SSE frame; multi-line data becomes several `data:` lines."""
    lines = data.splitlines() or [""]
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


async def _frames(
    request: Request, poll: Poll, interval: float, limit: float
) -> AsyncIterator[str]:
    yield "retry: 3000\n\n"
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not await request.is_disconnected():
        for event, data in await poll():
            yield encode(event, data)
        yield ": ping\n\n"  # a comment: keeps proxies from closing an idle stream
        await asyncio.sleep(interval)


def stream(
    request: Request, poll: Poll, *, interval: float = POLL_SECONDS, limit: float = MAX_SECONDS
) -> StreamingResponse:
    """A text/event-stream response calling `poll` every `interval` seconds."""
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        _frames(request, poll, interval, limit), media_type="text/event-stream", headers=headers
    )
