"""The login limiter: atomic under real concurrency, shared through Redis, no lock-out."""

from __future__ import annotations

import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from limits.storage import MemoryStorage, Storage, storage_from_string

from bot.console.auth import LoginLimiter
from bot.settings import ConsoleConfig

REDIS = "redis://127.0.0.1:6379/15"


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


def storages() -> list[str]:
    return ["memory", "redis"]


@pytest.fixture(params=storages())
def storage(request: pytest.FixtureRequest) -> Storage:
    if request.param == "memory":
        return MemoryStorage()
    if not _redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    found = storage_from_string(REDIS)
    assert isinstance(found, Storage)
    return found


def test_concurrent_attempts_never_pass_the_limit(storage: Storage) -> None:
    """40 threads released together by a barrier, two limiters (two workers) on one storage."""
    workers = [LoginLimiter(ConsoleConfig(), storage) for _ in range(2)]
    email = f"{uuid.uuid4().hex}@example.org"
    barrier = threading.Barrier(40)

    def attempt(i: int) -> bool:
        barrier.wait()
        return workers[i % 2].attempt(ip="10.0.0.1", email=email)

    with ThreadPoolExecutor(40) as pool:
        results = list(pool.map(attempt, range(40)))
    assert results.count(True) == 5  # login_limit_per_account, exactly


def test_a_stranger_cannot_lock_the_operator_out(storage: Storage) -> None:
    limiter = LoginLimiter(ConsoleConfig(), storage)
    email = f"{uuid.uuid4().hex}@example.org"
    stranger = [limiter.attempt(ip="203.0.113.9", email=email) for _ in range(10)]
    assert stranger == [True] * 5 + [False] * 5
    assert limiter.attempt(ip="192.0.2.10", email=email)  # the operator, from the office
    # Only a spread attack from many addresses reaches the loose account-wide limit.
    spread = [limiter.attempt(ip=f"198.51.100.{i}", email=email) for i in range(40)]
    assert spread.count(True) == 30 - 6
    limiter.succeeded(ip="203.0.113.9", email=email)
