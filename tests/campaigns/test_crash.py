"""kill -9 of a real `frontdesk campaign send` mid-send, then resume: no duplicate, no loss."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns import store
from bot.campaigns.audience import Audience
from bot.db.campaign_models import CampaignRecipient, RecipientStatus
from tests.campaigns.conftest import add_subscribers
from tests.channels.fakes import TOKEN, FakeTelegram, ServerThread, wait_for

ROOT = Path(__file__).resolve().parents[2]
FRONTDESK = [str(Path(sys.executable).with_name("frontdesk"))]


class SlowTelegram(FakeTelegram):
    """Takes 0.2 s per message, so that a kill catches some in flight."""

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        result = await super()._result(method, params)  # counted as received at once
        if method == "sendMessage":
            import asyncio

            await asyncio.sleep(0.2)
        return result


@pytest.fixture
def slow_telegram() -> Iterator[tuple[SlowTelegram, str]]:
    fake = SlowTelegram()
    with ServerThread(fake.app) as server:
        yield fake, server.url


def config_file(tmp_path: Path, **campaigns: object) -> Path:
    data = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    data["campaigns"] |= campaigns
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def statuses(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as s:
        stmt = select(CampaignRecipient.status, func.count()).group_by(CampaignRecipient.status)
        return {status: n for status, n in s.execute(stmt).tuples()}


def test_kill_mid_send_then_resume(
    db_url: str,
    sessions: sessionmaker[Session],
    slow_telegram: tuple[SlowTelegram, str],
    tmp_path: Path,
) -> None:
    fake, url = slow_telegram
    chats = [str(7000 + i) for i in range(60)]
    add_subscribers(sessions, [("telegram", c) for c in chats])
    with sessions.begin() as s:
        campaign, _ = store.create_campaign(s, title="t", text="Ciao", audience=Audience())
    env = os.environ | {
        "DATABASE_URL": db_url,
        "FRONTDESK_CONFIG": str(config_file(tmp_path, inflight_timeout_seconds=1, concurrency=8)),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": f"{url}/bot",
    }
    command = [*FRONTDESK, "campaign", "send", str(campaign.id), "--force"]
    first = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        wait_for(lambda: sum(fake.sent_per_chat.values()) >= 15, timeout=30)
    except AssertionError:
        first.kill()
        pytest.fail(f"the sender did not start: {first.communicate()[1].decode()[-800:]}")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    after_kill = statuses(sessions)
    assert after_kill.get(RecipientStatus.PENDING, 0) > 0  # killed mid-send, for real

    time.sleep(1.1)  # the dead sender's claims expire (inflight_timeout_seconds: 1)
    second = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr

    final = statuses(sessions)
    assert final.get(RecipientStatus.PENDING, 0) == final.get(RecipientStatus.INFLIGHT, 0) == 0
    assert max(fake.sent_per_chat.values()) == 1  # nobody got it twice
    sent = final.get(RecipientStatus.SENT, 0)
    uncertain = final.get(RecipientStatus.UNCERTAIN, 0)
    assert sent + uncertain == len(chats)  # nobody silently lost
    assert uncertain == after_kill.get(RecipientStatus.INFLIGHT, 0)
    assert sent <= sum(fake.sent_per_chat.values()) <= sent + uncertain


def test_resume_settles_the_dead_senders_claims_when_its_lease_lapses(
    db_url: str,
    sessions: sessionmaker[Session],
    slow_telegram: tuple[SlowTelegram, str],
    tmp_path: Path,
) -> None:
    """With the default in-flight timeout (minutes), the resumed send does not wait for it:
    the dead sender's claims are settled as soon as its channel lease lapses (30 s)."""
    fake, url = slow_telegram
    chats = [str(7100 + i) for i in range(60)]
    add_subscribers(sessions, [("telegram", c) for c in chats])
    with sessions.begin() as s:
        campaign, _ = store.create_campaign(s, title="t", text="Ciao", audience=Audience())
    env = os.environ | {
        "DATABASE_URL": db_url,
        "FRONTDESK_CONFIG": str(config_file(tmp_path, concurrency=8)),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": f"{url}/bot",
    }
    command = [*FRONTDESK, "campaign", "send", str(campaign.id), "--force"]
    first = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        wait_for(lambda: sum(fake.sent_per_chat.values()) >= 15, timeout=30)
    except AssertionError:
        first.kill()
        pytest.fail(f"the sender did not start: {first.communicate()[1].decode()[-800:]}")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = time.monotonic()
    after_kill = statuses(sessions)
    assert after_kill.get(RecipientStatus.INFLIGHT, 0) > 0  # claims left behind, for real

    second = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert second.returncode == 0, second.stderr
    assert time.monotonic() - killed_at < 60  # not the in-flight timeout (300 s)
    final = statuses(sessions)
    assert final.get(RecipientStatus.PENDING, 0) == final.get(RecipientStatus.INFLIGHT, 0) == 0
    assert max(fake.sent_per_chat.values()) == 1
    assert final.get(RecipientStatus.SENT, 0) + final.get(RecipientStatus.UNCERTAIN, 0) == 60
