"""Keeps the garbage collector from stalling a campaign send.

A full collection over the objects a process holds (modules, SQLAlchemy, the SDKs) stalls
the event loop for ~100 ms; the requests paced meanwhile then leave together, and the
provider counts more than its limit in that second. During a send, what existed before it
is moved out of the collector's sight (`gc.freeze`); what the send creates is still
collected.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_sends = 0  # sends running in this process (the scheduler runs them in threads)


@contextmanager
def out_of_sight() -> Iterator[None]:
    """For the duration of the block; the last of several concurrent sends gives it back."""
    global _sends
    with _lock:
        if _sends == 0:
            # No collection first: in a big process it takes long enough to delay the send
            # (and any other send waiting on the lock). Garbage frozen with the rest is
            # freed by the first collection after the send.
            gc.freeze()
        _sends += 1
    try:
        yield
    finally:
        with _lock:
            _sends -= 1
            if _sends == 0:
                gc.unfreeze()
