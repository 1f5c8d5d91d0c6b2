"""Splitting long messages, delivering replies, and the dispatcher's once-only handling."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import InboundMessage, OutboundMessage
from bot.channels.delivery import Dispatcher, RecipientGone, deliver, split_text
from bot.channels.telegram import utf16_len
from bot.db import inbox_repo, reply_repo
from bot.db.delivery_models import InboxMessage
from flows.replies import Reply

T = TypeVar("T")

words = st.text(st.characters(blacklist_categories=["Cs", "Zs", "Cc"]), min_size=1, max_size=30)
texts = st.lists(st.tuples(words, st.sampled_from([" ", "\n", "\n\n"])), max_size=80).map(
    lambda pairs: "".join(w + s for w, s in pairs)
)


@given(text=texts, limit=st.integers(8, 200))
def test_parts_fit_and_keep_every_word_in_order(text: str, limit: int) -> None:
    parts = split_text(text, limit, size=utf16_len)
    assert all(0 < utf16_len(p) <= limit for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    text = "Primo paragrafo.\n\nSecondo paragrafo, un po' più lungo.\n\nTerzo."
    assert split_text(text, 40) == [
        "Primo paragrafo.",
        "Secondo paragrafo, un po' più lungo.",
        "Terzo.",
    ]
    assert split_text("breve", 4096) == ["breve"]
    assert split_text("x" * 10, 4) == ["xxxx", "xxxx", "xx"]  # one endless word: hard cut
    assert split_text("  \n\n ", 10) == []


class Recorder:
    name = "telegram"

    def __init__(self, gone: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.sent: list[str] = []
        self.gone = gone

    def parse(self, raw: object) -> None:
        return None

    async def send(self, message: OutboundMessage) -> None:
        if message.address in self.gone:
            raise RecipientGone("telegram", message.address, "blocked")
        self.sent.append(f"{message.address}:{message.text}")


def test_deliver_skips_the_rest_for_a_gone_recipient() -> None:
    channel = Recorder(gone={"1"})
    out = [
        OutboundMessage("telegram", a, Reply(t)) for a, t in [("1", "a"), ("2", "b"), ("1", "c")]
    ]
    gone = asyncio.run(deliver(out, {"telegram": channel}))
    assert channel.sent == ["2:b"]
    assert [(g.address, g.reason) for g in gone] == [("1", "blocked")]
    assert "1" not in str(gone[0])


class Desk:
    """Marks the stored message handled and queues one echo reply, as FrontDesk does."""

    def __init__(self, sessions: sessionmaker[Session], fail: bool = False) -> None:
        self.handled: list[InboundMessage] = []
        self.fail = fail
        self.sessions = sessions

    async def handle_stored(
        self, message: InboundMessage, inbox_id: int, *, finish: Callable[[Session], T]
    ) -> T | None:
        if self.fail:
            raise RuntimeError("boom")
        with self.sessions.begin() as session:
            if not inbox_repo.take(session, inbox_id=inbox_id):
                return None
            reply_repo.queue(
                session,
                channel=message.channel,
                address=message.address,
                replies=[Reply(f"eco {message.text}")],
                inbox_id=inbox_id,
            )
            finished = finish(session)
        self.handled.append(message)
        return finished


def test_dispatcher_handles_each_external_id_once_and_in_order(
    sessions: sessionmaker[Session],
) -> None:
    desk, channel = Desk(sessions), Recorder()
    order: list[str] = []

    async def go() -> list[bool]:
        dispatcher = Dispatcher(desk=desk, sessions=sessions, channels={"telegram": channel})

        async def first() -> None:
            order.append("first")

        results = [
            await dispatcher.accept(
                InboundMessage("telegram", "7", text="uno", external_id="1"), first=first
            ),
            await dispatcher.accept(InboundMessage("telegram", "7", text="uno", external_id="1")),
            await dispatcher.accept(InboundMessage("telegram", "7", text="due", external_id="2")),
        ]
        await dispatcher.drain()
        return results

    assert asyncio.run(go()) == [True, False, True]
    assert [m.text for m in desk.handled] == ["uno", "due"]
    assert channel.sent == ["7:eco uno", "7:eco due"] and order == ["first"]


def test_dispatcher_logs_background_failures_without_the_address(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    async def go() -> None:
        dispatcher = Dispatcher(desk=Desk(sessions, fail=True), sessions=sessions, channels={})
        await dispatcher.accept(InboundMessage("telegram", "555123", text="x", external_id="9"))
        await dispatcher.drain()

    with caplog.at_level(logging.INFO):
        asyncio.run(go())
    [failure] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "not answered" in failure.getMessage() and "555123" not in failure.getMessage()
    with sessions() as s:  # kept for a retry, not lost
        [row] = s.scalars(select(InboxMessage)).all()
        assert row.handled_at is None and row.attempts == 1 and row.last_error == "RuntimeError"
        assert row.text == "x"
