"""Retention from config.yml, with a frozen clock; the CLI's dry run; the daily job."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot.cli.main import app
from bot.db.campaign_models import CampaignRecipient, ConsentEvent, Subscriber
from bot.db.channel_models import ChannelContact, OutboundStatus
from bot.db.channel_repo import address_hash
from bot.db.console_models import OperatorNote, WebChatOutbox
from bot.db.models import Conversation, ConversationState, Handoff, Message, NeedEvent
from bot.privacy.registry import Subject
from bot.privacy.retention import UnknownRetentionKind, purge, schedule
from bot.settings import RetentionDays
from tests.privacy.conftest import fill_resident

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)  # the frozen clock
DAYS = RetentionDays().model_dump()
OLD = Subject("telegram", "111")
NEW = Subject("telegram", "222")


def age(sessions: sessionmaker[Session], subject: Subject, days: int) -> None:
    """Moves every timestamp of the subject's rows `days` before NOW."""
    when = NOW - timedelta(days=days)
    with sessions.begin() as s:
        conv_id = s.scalars(
            select(Conversation.id).where(Conversation.address == subject.address)
        ).one()
        s.execute(
            update(Conversation).where(Conversation.id == conv_id).values(last_message_at=when)
        )
        s.execute(
            update(ConversationState)
            .where(ConversationState.conversation_id == conv_id)
            .values(updated_at=when)
        )
        for model in (Message, OperatorNote, WebChatOutbox):
            s.execute(update(model).where(model.conversation_id == conv_id).values(created_at=when))
        s.execute(update(Handoff).where(Handoff.conversation_id == conv_id).values(updated_at=when))
        hashed = address_hash(subject.channel, subject.address)
        s.execute(
            update(ChannelContact)
            .where(ChannelContact.address_hash == hashed)
            .values(last_inbound_at=when)
        )
        s.execute(
            update(OutboundStatus)
            .where(OutboundStatus.address_hash == hashed)
            .values(updated_at=when)
        )
        sub = s.scalars(select(Subscriber.id).where(Subscriber.address == subject.address)).one()
        s.execute(
            update(CampaignRecipient)
            .where(CampaignRecipient.subscriber_id == sub)
            .values(sent_at=when)
        )
        s.execute(
            update(ConsentEvent).where(ConsentEvent.address_hash == hashed).values(recorded_at=when)
        )


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_purge_deletes_only_what_is_past_its_retention(sessions: sessionmaker[Session]) -> None:
    fill_resident(sessions, OLD)
    age(sessions, OLD, days=400)  # past every retention but the consent ledger's 10 years
    fill_resident(sessions, NEW)
    age(sessions, NEW, days=1)
    with sessions.begin() as s:
        dry = purge(s, retention_days=DAYS, now=NOW, dry_run=True)
    assert dry["messages"] == 1 and dry["conversations"] == 1
    assert count(sessions, Message) == 2  # dry run: nothing deleted
    with sessions.begin() as s:
        done = purge(s, retention_days=DAYS, now=NOW)
    assert done == dry
    assert count(sessions, Message) == 1
    assert count(sessions, Conversation) == 1
    assert count(sessions, Handoff) == 1
    assert count(sessions, NeedEvent) == 2  # anonymous: never purged
    assert count(sessions, ConsentEvent) == 2  # 10-year proof
    assert count(sessions, Subscriber) == 2  # active subscribers stay


def test_messages_go_before_the_conversation(sessions: sessionmaker[Session]) -> None:
    fill_resident(sessions, OLD)
    age(sessions, OLD, days=200)  # past messages (180), within conversation_state (365)
    with sessions.begin() as s:
        done = purge(s, retention_days=DAYS, now=NOW)
    assert done["messages"] == 1 and done["conversations"] == 0
    assert count(sessions, Conversation) == 1 and count(sessions, Message) == 0


def test_unknown_kind_is_an_error(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s, pytest.raises(UnknownRetentionKind):
        purge(s, retention_days={"messages": 1}, now=NOW)


def test_cli_purge_dry_run_prints_counts(
    sessions: sessionmaker[Session], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FRONTDESK_CONFIG", str(ROOT / "config.yml"))
    fill_resident(sessions, OLD)
    age(sessions, OLD, days=4000)  # relative to NOW, which is in the future: still old today
    result = CliRunner().invoke(app, ["privacy", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["dry_run"] is True and out["rows"]["messages"] == 1
    assert "da cancellare: messages 1" in result.stdout
    assert count(sessions, Message) == 1
    result = CliRunner().invoke(app, ["privacy", "purge"])
    assert json.loads(result.stdout.strip().splitlines()[-1])["rows"]["consent_ledger"] == 1
    assert count(sessions, Message) == 0


def test_daily_job_is_scheduled() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.jobs: list[tuple[str, str, dict]] = []

        def add_job(self, func: str, trigger: str, **kw: object) -> None:
            self.jobs.append((func, trigger, kw))

    rec = Recorder()
    schedule(rec)
    ((func, trigger, kw),) = rec.jobs
    assert func == "bot.privacy.retention:purge_job" and trigger == "cron"
    assert kw["id"] == "privacy.retention_purge" and kw["hour"] == 3
