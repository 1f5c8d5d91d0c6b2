"""The durable inbox and reply outbox through the real app and real HTTP to the fake Bot
API: a turn lost in a crash is answered after the restart (once), replies survive 502s
and timeouts (delivered once, in order), and two workers keep one resident's order."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.channels import replies as reply_sender
from bot.channels.base import InboundMessage
from bot.channels.delivery import Dispatcher
from bot.cli.seed import seed_catalog_if_empty
from bot.db import inbox_repo
from bot.db.delivery_models import InboxMessage, ReplyOutbox
from bot.db.engine import create_db_engine, session_factory
from bot.db.models import Conversation, ConversationState
from bot.settings import Settings, TelegramConfig
from bot.web.app import create_app
from flows.replies import Reply
from tests.channels.conftest import post_update
from tests.channels.fakes import FakeTelegram, wait_for
from tests.channels.payloads import CHAT_ID, tg_text
from tests.conftest import FakeRasa, nlu_client

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]


def app_client(settings: Settings, sessions: sessionmaker[Session], rasa: FakeRasa) -> TestClient:
    seed_catalog_if_empty(sessions, ROOT / "catalog" / "data")
    return TestClient(create_app(settings, nlu=nlu_client(rasa)))


def turns(sessions: sessionmaker[Session], chat: str) -> int:
    """How many turns the conversation went through (the state's version counts saves)."""
    with sessions() as s:
        conv = s.scalars(
            select(Conversation).where(
                Conversation.address_hash == crypto.address_index("telegram", chat)
            )
        ).first()
        state = s.get(ConversationState, conv.id) if conv else None
        return 0 if state is None else state.version + 1


def test_a_message_stored_before_a_crash_is_answered_once_after_the_restart(
    channel_settings: Settings,
    sessions: sessionmaker[Session],
    fake_telegram: FakeTelegram,
    fake_rasa: FakeRasa,
) -> None:
    # The process died right after the webhook stored the update (200 was answered).
    update = tg_text("cerco un nido")
    with sessions.begin() as s:
        message = InboundMessage(
            "telegram", str(CHAT_ID), text="cerco un nido", external_id=str(update["update_id"])
        )
        assert inbox_repo.store(s, message=message) is not None
    with app_client(channel_settings, sessions, fake_rasa) as client:  # the restart
        wait_for(lambda: fake_telegram.sent_per_chat[str(CHAT_ID)] > 0)
        client.portal.call(client.app.state.services.dispatcher.drain)  # type: ignore[attr-defined]
        first = fake_telegram.sent_per_chat[str(CHAT_ID)]
        assert post_update(client, update).status_code == 200  # Telegram redelivers it
    assert fake_telegram.sent_per_chat[str(CHAT_ID)] == first  # dropped: answered once
    assert turns(sessions, str(CHAT_ID)) == 1
    with sessions() as s:
        [row] = s.scalars(select(InboxMessage)).all()
        assert row.handled_at is not None and row.text is None  # cleared once handled


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reply_sender, "RETRY_BASE_SECONDS", 0.2)
    monkeypatch.setattr(reply_sender, "RETRY_CAP_SECONDS", 0.5)


def test_replies_survive_502s_and_timeouts_delivered_once_in_order(
    channel_settings: Settings,
    sessions: sessionmaker[Session],
    fake_telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    quick_retries: None,
) -> None:
    config = channel_settings.config.model_copy(
        update={"telegram": TelegramConfig(timeout_seconds=0.5)}
    )
    settings = Settings(env=channel_settings.env, config=config)
    bad_gateway = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
    fake_telegram.fail_next["sendMessage"] = [bad_gateway] * 3
    fake_telegram.stall_next, fake_telegram.stall_seconds = 3, 1.0
    texts = ["ciao", "cerco un nido", "a Tradate"]
    with app_client(settings, sessions, fake_rasa) as client:
        for text in texts:
            assert post_update(client, tg_text(text), settle_after=False).status_code == 200
        wait_for(lambda: turns(sessions, str(CHAT_ID)) == 3, timeout=30)

        def all_final() -> bool:
            with sessions() as s:
                rows = s.scalars(select(ReplyOutbox)).all()
                return bool(rows) and all(r.status != "queued" for r in rows)

        wait_for(all_final, timeout=40)
        with sessions() as s:
            rows = s.scalars(select(ReplyOutbox).order_by(ReplyOutbox.id)).all()
    assert [r.status for r in rows] == ["sent"] * len(rows)
    assert all(r.text is None for r in rows)  # not kept once delivered
    delivered = [t for chat, t in fake_telegram.delivered if chat == str(CHAT_ID)]
    assert len(delivered) == len(rows)  # each reply once, none lost
    ids = [int(r.provider_id or 0) for r in rows]
    assert ids == sorted(ids)  # in the order they were queued
    assert any(r.attempts > 1 for r in rows)  # the failures were really met


@pytest.fixture
def second_engine(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


class SlowDesk:
    """Marks handled and echoes, after a random-ish NLU delay: a worker that handled a later
    message before an earlier one would show it in the replies' order."""

    def __init__(self, sessions: sessionmaker[Session], delays: Iterator[float]) -> None:
        self.sessions = sessions
        self.delays = delays

    async def handle_stored(
        self, message: InboundMessage, inbox_id: int, *, finish: Callable[[Session], T]
    ) -> T | None:
        await asyncio.sleep(next(self.delays))  # the NLU call, outside any transaction
        from bot.db import reply_repo

        with self.sessions.begin() as session:
            from bot.db import conversation_repo

            conversation_repo.lock_conversation(
                session, channel=message.channel, address=message.address
            )
            if not inbox_repo.take(session, inbox_id=inbox_id):
                return None
            reply_repo.queue(
                session,
                channel=message.channel,
                address=message.address,
                replies=[Reply(f"eco {message.text}")],
                inbox_id=inbox_id,
            )
            return finish(session)


class Recorder:
    name = "telegram"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def parse(self, raw: object) -> None:
        return None

    async def send(self, message: object) -> str:
        self.sent.append((message.address, message.text))  # type: ignore[attr-defined]
        return str(len(self.sent))


def test_two_workers_keep_each_residents_order(
    db_url: str, sessions: sessionmaker[Session], second_engine: sessionmaker[Session]
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("two workers need PostgreSQL (SQLite: one writer)")
    channel = Recorder()
    delays = itertools.cycle([0.05, 0.0, 0.03, 0.01, 0.08])
    workers = [
        Dispatcher(desk=SlowDesk(s, delays), sessions=s, channels={"telegram": channel})
        for s in (sessions, second_engine)
    ]
    residents = [str(9100 + i) for i in range(4)]
    sent = [(r, n) for n in range(6) for r in residents]  # interleaved

    async def go() -> None:
        for i, (resident, n) in enumerate(sent):  # alternate workers, as a balancer would
            message = InboundMessage("telegram", resident, text=str(n), external_id=f"{i}")
            await workers[i % 2].accept(message)
            await asyncio.sleep(0.005)
        deadline = time.monotonic() + 30
        while len(channel.sent) < len(sent) and time.monotonic() < deadline:
            for w in workers:
                await w.drain()
                await w.recover_once()
            await asyncio.sleep(0.05)
        for w in workers:
            await w.close()

    asyncio.run(go())
    assert len(channel.sent) == len(sent)  # each answered once
    for resident in residents:
        got = [text for address, text in channel.sent if address == resident]
        assert got == [f"eco {n}" for n in range(6)], resident


def test_run_refuses_several_workers_on_sqlite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from bot.cli.main import app

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("FRONTDESK_CONFIG", str(ROOT / "config.yml"))
    result = CliRunner().invoke(app, ["run", "--workers", "2"])
    assert result.exit_code == 1
    assert "needs PostgreSQL" in result.output


def test_claims_of_a_dead_process_of_this_host_are_released_at_once(
    sessions: sessionmaker[Session],
) -> None:
    import os
    import socket
    import subprocess
    import sys

    from bot.channels.replies import holder_is_dead, worker_name
    from bot.db import reply_repo

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = f"{socket.gethostname()}:{done.stdout.strip()}:abcdef:1234abcd"
    alive = f"{worker_name()}:1234abcd"
    assert holder_is_dead(dead) and not holder_is_dead(alive)
    assert not holder_is_dead("elsewhere:1:abcdef:x")  # another host's claims lapse instead
    assert holder_is_dead(f"{socket.gethostname()}:{os.getpid()}:zzzzzz:x")
    with sessions.begin() as s:
        inbox_repo.claim_turn(s, channel="telegram", address="1", holder=dead, seconds=60)
        inbox_repo.claim_turn(s, channel="telegram", address="2", holder=alive, seconds=60)
        reply_repo.queue(s, channel="telegram", address="1", replies=[Reply("a")])
        reply_repo.queue(s, channel="telegram", address="2", replies=[Reply("b")])
    with sessions.begin() as s:
        assert reply_repo.claim_next(s, channel="telegram", address="1", holder=dead, seconds=60)
        assert reply_repo.claim_next(s, channel="telegram", address="2", holder=alive, seconds=60)
    with sessions.begin() as s:
        assert inbox_repo.release_dead_turns(s, is_dead=holder_is_dead) == 1
        assert reply_repo.release_dead_claims(s, is_dead=holder_is_dead) == 1
    with sessions.begin() as s:  # the dead one's work is free again, the live one's is not
        assert inbox_repo.claim_turn(s, channel="telegram", address="1", holder="x", seconds=60)
        assert not inbox_repo.claim_turn(s, channel="telegram", address="2", holder="x", seconds=60)
        assert reply_repo.claim_next(s, channel="telegram", address="1", holder="x", seconds=60)
        assert not reply_repo.claim_next(s, channel="telegram", address="2", holder="x", seconds=60)
