"""Group commit: steps asked for together share one transaction, each gets its own answer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.campaigns import claims, group_commit


def claimed(row_id: int) -> claims.Claimed:
    return claims.Claimed(id=row_id, channel="telegram", address=str(row_id))


def test_concurrent_steps_share_one_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    batches: list[list[group_commit.Step]] = []

    def steps(_sessions: Any, batch: list[group_commit.Step], _worker: str) -> list[bool]:
        batches.append(batch)
        return [following is not None and following.id % 2 == 0 for _, following in batch]

    monkeypatch.setattr(group_commit, "apply_steps", steps)

    async def go() -> list[bool]:
        commits = group_commit.GroupCommit(None, "w")  # type: ignore[arg-type]
        first = await commits.step(None, claimed(2))  # alone: a batch of one
        together = await asyncio.gather(*(commits.step(None, claimed(i)) for i in range(3, 8)))
        return [first, *together]

    assert asyncio.run(go()) == [True, False, True, False, True, False]
    assert [len(b) for b in batches] == [1, 5]


def test_a_failed_transaction_fails_every_step_of_its_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def steps(_sessions: Any, batch: list[group_commit.Step], _worker: str) -> list[bool]:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(group_commit, "apply_steps", steps)

    async def go() -> list[BaseException | bool]:
        commits = group_commit.GroupCommit(None, "w")  # type: ignore[arg-type]
        tasks = (commits.step(None, claimed(i)) for i in range(3))
        return await asyncio.gather(*tasks, return_exceptions=True)

    assert [type(r) for r in asyncio.run(go())] == [RuntimeError] * 3
