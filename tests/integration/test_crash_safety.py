"""`frontdesk run` as real processes with the real model and a fake Bot API on loopback:
SIGKILL in the middle of turns and of a stalled send, then a restart, answers every message
once, in order; `--workers 2` on PostgreSQL keeps each resident's order; the web chat's
requests cut short by a SIGKILL and retried with their client_id are answered once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.delivery_models import InboxMessage, ReplyOutbox
from bot.db.models import Conversation, ConversationState
from nlu.rasa_process import RasaServer
from tests.channels.fakes import TOKEN, FakeTelegram, wait_for
from tests.channels.payloads import tg_text
from tests.integration.conftest import free_port
from tests.integration.test_run_end_to_end import wait_healthy

ROOT = Path(__file__).resolve().parents[2]
FRONTDESK = str(Path(sys.executable).parent / "frontdesk")
SECRET = "crash-test-webhook-secret"
CONVERSATION = ["buongiorno", "cerco un nido per mio figlio", "siamo a tradate", "ha 2 anni"]

pytestmark = pytest.mark.rasa


def config_file(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    data["channels"]["enabled"] = ["webchat", "telegram"]
    data["telegram"] = {"timeout_seconds": 1.0}  # a stalled Bot API call gives up quickly
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


class FrontDeskProcess:
    """One `frontdesk run` (optionally with several workers) on a free port."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [FRONTDESK, "run", "--port", str(self.port), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        wait_healthy(self.base, self.proc, timeout=120)

    def post(self, update: dict) -> int:
        resp = httpx.post(
            f"{self.base}/webhooks/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            timeout=10,
        )
        return resp.status_code

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=60)
        return out


def environment(db_url: str, rasa: RasaServer, telegram_url: str, tmp_path: Path) -> dict[str, str]:
    return os.environ | {
        "DATABASE_URL": db_url,
        "FRONTDESK_CONFIG": str(config_file(tmp_path)),
        "RASA_URL": rasa.url,
        "RASA_TOKEN": rasa.token,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_BASE_URL": f"{telegram_url}/bot",
    }


def settled(sessions: sessionmaker[Session], expected_messages: int) -> bool:
    """Every message received and handled, and no reply still waiting to go out."""
    with sessions() as s:
        inbox = s.scalars(select(InboxMessage)).all()
        queued = s.scalars(select(ReplyOutbox).where(ReplyOutbox.status == "queued")).all()
    return len(inbox) == expected_messages and all(r.handled_at for r in inbox) and not queued


def handled_in_order(sessions: sessionmaker[Session]) -> dict[str, bool]:
    """Whether each resident's messages were handled in arrival (inbox id) order: the
    transcript keeps no message before consent, the inbox keeps when each was handled."""
    with sessions() as s:
        rows = s.scalars(select(InboxMessage).order_by(InboxMessage.id)).all()
    moments: dict[str, list[datetime]] = defaultdict(list)
    for row in rows:
        assert row.handled_at is not None
        moments[row.address].append(row.handled_at)
    return {address: times == sorted(times) for address, times in moments.items()}


def turns(sessions: sessionmaker[Session]) -> dict[str, int]:
    """How many turns each conversation went through (the state's version counts saves)."""
    with sessions() as s:
        rows = s.execute(
            select(Conversation.address, ConversationState.version).join(
                ConversationState, ConversationState.conversation_id == Conversation.id
            )
        ).all()
    return {address: version + 1 for address, version in rows}


def outbox(sessions: sessionmaker[Session]) -> dict[str, list[ReplyOutbox]]:
    with sessions() as s:
        rows = s.scalars(select(ReplyOutbox).order_by(ReplyOutbox.id)).all()
    by_chat: dict[str, list[ReplyOutbox]] = defaultdict(list)
    for row in rows:
        by_chat[row.address].append(row)
    return by_chat


def assert_answered_once_in_order(
    sessions: sessionmaker[Session], fake: FakeTelegram, chats: list[str]
) -> None:
    assert handled_in_order(sessions) == {chat: True for chat in chats}
    assert turns(sessions) == {chat: len(CONVERSATION) for chat in chats}
    replies = outbox(sessions)
    for chat in chats:
        rows = replies[chat]
        assert [r.status for r in rows] == ["sent"] * len(rows), chat
        delivered = [text for to, text in fake.delivered if to == chat]
        assert len(delivered) == len(rows), chat  # each reply once: none lost, none twice
        ids = [int(r.provider_id or 0) for r in rows]
        assert ids == sorted(ids), chat  # delivered in the order the turns queued them


def test_sigkill_mid_turn_then_restart_answers_every_message_once(
    db_url: str,
    sessions: sessionmaker[Session],
    rasa_server: RasaServer,
    fake_telegram: tuple[FakeTelegram, str],
    tmp_path: Path,
) -> None:
    fake, url = fake_telegram
    env = environment(db_url, rasa_server, url, tmp_path)
    chats = [str(6100 + i) for i in range(3)]
    updates = [tg_text(text, chat_id=int(chat)) for text in CONVERSATION for chat in chats]
    # The Bot API answers 502 twice, then hangs past the client's timeout for a while.
    bad_gateway = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
    fake.fail_next["sendMessage"] = [bad_gateway] * 2
    fake.stall_next, fake.stall_seconds = 6, 3.0

    first = FrontDeskProcess(env)
    try:
        half = len(updates) // 2
        assert all(first.post(u) == 200 for u in updates[:half])
        # Kill while a send hangs and turns are still waiting (the replies of one turn go
        # out before the next is understood).
        wait_for(lambda: fake.stall_next < 6, timeout=60)
        with sessions() as s:
            unhandled = s.scalars(select(InboxMessage).where(InboxMessage.handled_at.is_(None)))
            assert unhandled.first() is not None  # killed mid-conversation, for real
    finally:
        first.kill()

    second = FrontDeskProcess(env)
    try:
        # Telegram redelivers what it sent while the process was down, and resends the
        # unacknowledged: here everything again, the rest for the first time.
        assert all(second.post(u) == 200 for u in updates)
        wait_for(lambda: settled(sessions, len(updates)), timeout=120)
    finally:
        out = second.stop()
    assert second.proc.returncode == 0, out[-2000:]
    assert_answered_once_in_order(sessions, fake, chats)
    assert "released" in out  # the dead process's claims were freed, not waited out


def test_two_workers_on_postgresql_keep_each_residents_order(
    db_url: str,
    sessions: sessionmaker[Session],
    rasa_server: RasaServer,
    fake_telegram: tuple[FakeTelegram, str],
    tmp_path: Path,
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several workers need PostgreSQL (SQLite has one writer)")
    fake, url = fake_telegram
    env = environment(db_url, rasa_server, url, tmp_path)
    chats = [str(6200 + i) for i in range(4)]
    desk = FrontDeskProcess(env, "--workers", "2")
    try:
        # Interleaved, as fast as Telegram would push them: the kernel spreads the requests
        # over both workers, and the NLU call takes longer for some texts than for others.
        for text in CONVERSATION:
            for chat in chats:
                assert desk.post(tg_text(text, chat_id=int(chat))) == 200
                time.sleep(0.01)
        wait_for(lambda: settled(sessions, len(chats) * len(CONVERSATION)), timeout=120)
    finally:
        out = desk.stop()
    assert desk.proc.returncode == 0, out[-2000:]
    assert_answered_once_in_order(sessions, fake, chats)


class WebResident:
    """A web chat page as chat.js behaves: one message at a time, each with its client_id,
    retried with the same id until an answer arrives; replies shown once by id."""

    def __init__(self, n: int) -> None:
        self.session = f"crash-web-{n:04d}-session"
        self.client = httpx.Client(timeout=30)
        self.seen: list[int] = []  # reply ids in the order they reached the page
        self.retries = 0
        self.in_flight = False

    def say(self, base: Callable[[], str], text: str, client_id: str) -> None:
        deadline = time.monotonic() + 180
        while True:
            self.in_flight = True
            try:
                body = {"session": self.session, "text": text, "client_id": client_id}
                resp = self.client.post(f"{base()}/api/chat", json=body)
                if resp.status_code == 200:
                    data = resp.json()
                    assert data["session"] == self.session
                    self.seen += [m["id"] for m in data["messages"]]
                    return
            except httpx.TransportError:
                pass  # the process died under the request: try again, same id
            finally:
                self.in_flight = False
            self.retries += 1
            assert time.monotonic() < deadline, "no answer after the restart"
            time.sleep(0.3)

    def poll(self, base: str) -> None:
        """What /api/chat/updates holds for the page (replies of turns it did not wait for)."""
        after = 0
        while True:
            resp = self.client.get(
                f"{base}/api/chat/updates",
                params={"after": after},
                headers={"X-Chat-Session": self.session},
            )
            data = resp.json()
            self.seen += [m["id"] for m in data["messages"]]
            if data["last"] == after:
                return
            after = data["last"]


def test_sigkill_under_web_chat_requests_then_restart_answers_each_message_once(
    db_url: str,
    sessions: sessionmaker[Session],
    rasa_server: RasaServer,
    fake_telegram: tuple[FakeTelegram, str],
    tmp_path: Path,
) -> None:
    env = environment(db_url, rasa_server, fake_telegram[1], tmp_path)
    residents = [WebResident(i) for i in range(3)]
    current: list[FrontDeskProcess] = [FrontDeskProcess(env)]

    def base() -> str:
        return current[-1].base

    def talk(resident: WebResident) -> None:
        for i, text in enumerate(CONVERSATION):
            resident.say(base, text, client_id=f"{resident.session}-msg-{i:02d}")

    threads = [threading.Thread(target=talk, args=(r,)) for r in residents]
    try:
        for thread in threads:
            thread.start()
        # Kill with requests in flight, once a few turns are through.
        wait_for(
            lambda: (
                sum(map(len, (r.seen for r in residents))) >= 3
                and any(r.in_flight for r in residents)
            ),
            timeout=120,
        )
        current[-1].kill()
        current.append(FrontDeskProcess(env))
        for thread in threads:
            thread.join(timeout=240)
        for resident in residents:
            resident.poll(base())
    finally:
        out = current[-1].stop()
    assert current[-1].proc.returncode == 0, out[-2000:]
    assert sum(r.retries for r in residents) >= 1  # the kill really cut requests short
    with sessions() as s:
        inbox = s.scalars(select(InboxMessage)).all()
        assert len(inbox) == len(residents) * len(CONVERSATION)  # each message stored once
        assert all(row.handled_at for row in inbox)
    # Each message handled once (one turn each), in order.
    assert turns(sessions) == {r.session: len(CONVERSATION) for r in residents}
    assert handled_in_order(sessions) == {r.session: True for r in residents}
    replies = outbox(sessions)
    for resident in residents:
        rows = replies[resident.session]
        assert rows and all(r.status == "sent" for r in rows), resident.session
        # Every reply reached the page (none lost), and only those (the page shows each id once).
        assert sorted(set(resident.seen)) == [r.id for r in rows], resident.session
