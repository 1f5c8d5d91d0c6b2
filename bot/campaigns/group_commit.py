"""The sender workers' steps (an outcome to record, the next row to mark in flight),
committed together in one transaction per batch."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns import claims, db_pool
from bot.campaigns.attempt import Result
from bot.campaigns.claims import Claimed

Step = tuple[tuple[Claimed, Result] | None, Claimed | None]


def apply_steps(sessions: sessionmaker[Session], steps: list[Step], worker: str) -> list[bool]:
    """Records the steps' previous outcomes and marks their next rows in flight, all in one
    transaction (committed before any of those API calls). For each step: False when its
    next row is no longer ours."""
    with sessions.begin() as session:
        claims.finish(session, [done for done, _ in steps if done is not None])
        following = [row for _, row in steps if row is not None]
        started = (
            claims.start_many(session, claimed=following, worker=worker) if following else set()
        )
    return [row is not None and row.id in started for _, row in steps]


class GroupCommit:
    """The workers' steps, committed together: steps asked for while a transaction runs
    share the next one. Every row is still in flight on disk before its own API call, but
    at a hundred messages a second the database sees a transaction per batch, not per
    message (one per message kept SQLite's single writer from reaching the rate)."""

    def __init__(self, sessions: sessionmaker[Session], worker: str) -> None:
        self._sessions = sessions
        self._worker = worker
        self._waiting: list[tuple[Step, asyncio.Future[bool]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def step(self, done: tuple[Claimed, Result] | None, following: Claimed | None) -> bool:
        """Records `done` and marks `following` in flight; False when it is no longer ours."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(((done, following), future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                started = await db_pool.run(
                    apply_steps, self._sessions, [s for s, _ in batch], self._worker
                )
            except Exception as exc:  # every worker of the batch sees the failure
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for (_, future), ok in zip(batch, started, strict=True):
                    if not future.done():  # its worker may have been cancelled meanwhile
                        future.set_result(ok)
