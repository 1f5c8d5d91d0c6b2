"""Retention from config.yml, with a frozen clock; the CLI's dry run; the daily job."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot.campaigns.subscriptions import Consent, unsubscribe
from bot.cli.main import app
from bot.crypto import address_index
from bot.db.campaign_models import CampaignRecipient, ConsentEvent, Subscriber
from bot.db.channel_models import ChannelContact, OutboundStatus
from bot.db.console_models import AuditEntry, OperatorNote
from bot.db.models import Conversation, ConversationState, Handoff, Message, NeedEvent
from bot.privacy.registry import Subject
from bot.privacy.retention import UnknownRetentionKind, purge
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
            select(Conversation.id).where(
                Conversation.address_hash == address_index(subject.channel, subject.address)
            )
        ).one()
        s.execute(
            update(Conversation).where(Conversation.id == conv_id).values(last_message_at=when)
        )
        s.execute(
            update(ConversationState)
            .where(ConversationState.conversation_id == conv_id)
            .values(updated_at=when)
        )
        for model in (Message, OperatorNote):
            s.execute(update(model).where(model.conversation_id == conv_id).values(created_at=when))
        s.execute(update(Handoff).where(Handoff.conversation_id == conv_id).values(updated_at=when))
        hashed = address_index(subject.channel, subject.address)
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
        sub = s.scalars(
            select(Subscriber.id).where(
                Subscriber.address_hash == address_index(subject.channel, subject.address)
            )
        ).one()
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
    sessions: sessionmaker[Session],
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FRONTDESK_CONFIG", str(ROOT / "config.yml"))
    monkeypatch.chdir(tmp_path)  # the purge empties old logs of var/: never the checkout's
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


def write_log(path: Path, *, days_old: float, now: datetime = NOW, text: str = "log\n") -> Path:
    """A log file last modified `days_old` days before `now`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    when = (now - timedelta(days=days_old)).timestamp()
    os.utime(path, (when, when))
    return path


def test_log_files_past_retention_are_emptied_or_deleted(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    logs = tmp_path / "var"
    old = write_log(logs / "rasa.log", days_old=31, text="testo del residente\n")
    rotated = write_log(logs / "rasa.log.1", days_old=60)
    recent = write_log(logs / "rasa-test.log", days_old=29)
    empty = write_log(logs / "empty.log", days_old=90, text="")
    not_logs = [write_log(logs / name, days_old=400) for name in ("data.key", "frontdesk.db")]
    nested = write_log(logs / "models" / "train.log", days_old=400)
    with sessions.begin() as s:
        dry = purge(s, retention_days=DAYS, now=NOW, dry_run=True, log_dir=logs)
    files = {k: v for k, v in dry.items() if k.startswith("files:")}
    assert files == {
        f"files:{empty}": 0,
        f"files:{recent}": 0,
        f"files:{old}": 1,
        f"files:{rotated}": 1,
    }
    assert dry["messages"] == 0  # the tables are still there
    assert old.read_text(encoding="utf-8") and rotated.exists()  # dry run: untouched
    with sessions.begin() as s:
        done = purge(s, retention_days=DAYS, now=NOW, log_dir=logs)
    assert done == dry
    assert old.exists() and old.stat().st_size == 0  # truncated: Rasa may hold it open
    assert not rotated.exists()
    assert recent.read_text(encoding="utf-8") == "log\n"
    assert all(p.exists() and p.stat().st_size > 0 for p in [*not_logs, nested])
    with sessions() as s:
        (detail,) = s.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "privacy_purge")
        ).all()
    assert detail["rows"][f"files:{old}"] == 1


def test_purge_leaves_files_alone_without_a_log_dir(
    sessions: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    old = write_log(tmp_path / "var" / "rasa.log", days_old=400)
    with sessions.begin() as s:
        done = purge(s, retention_days=DAYS, now=NOW)
    assert not any(k.startswith("files:") for k in done)
    assert old.stat().st_size > 0


def test_cli_purge_reports_the_log_files(
    sessions: sessionmaker[Session],
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FRONTDESK_CONFIG", str(ROOT / "config.yml"))
    monkeypatch.chdir(tmp_path)  # config.yml's log_dir is var/, relative to the working folder
    now = datetime.now(UTC)
    old = write_log(tmp_path / "var" / "rasa.log", days_old=DAYS["logs"] + 1, now=now)
    result = CliRunner().invoke(app, ["privacy", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["rows"]["files:var/rasa.log"] == 1
    assert "da cancellare: files:var/rasa.log 1" in result.stdout
    assert old.stat().st_size > 0
    result = CliRunner().invoke(app, ["privacy", "purge"])
    assert json.loads(result.stdout.strip().splitlines()[-1])["rows"]["files:var/rasa.log"] == 1
    assert old.stat().st_size == 0


def set_subscriber(
    sessions: sessionmaker[Session], subject: Subject, *, updated_days: int, consent_days: int
) -> None:
    """Dates the subscriber's last change and its consent events (at and recorded_at)."""
    hashed = address_index(subject.channel, subject.address)
    with sessions.begin() as s:
        s.execute(
            update(ConsentEvent)
            .where(ConsentEvent.address_hash == hashed)
            .values(
                at=NOW - timedelta(days=consent_days),
                recorded_at=NOW - timedelta(days=consent_days),
            )
        )
        s.execute(
            update(Subscriber)
            .where(Subscriber.address_hash == address_index(subject.channel, subject.address))
            .values(updated_at=NOW - timedelta(days=updated_days))
        )


def opt_out(sessions: sessionmaker[Session], subject: Subject, *, days_ago: int) -> None:
    with sessions.begin() as s:
        assert unsubscribe(
            s,
            channel=subject.channel,
            address=subject.address,
            consent=Consent("stop", "v1", "STOP", at=NOW - timedelta(days=days_ago)),
        )


def test_opted_out_subscribers_are_purged_after_the_retention(
    sessions: sessionmaker[Session],
) -> None:
    gone, recent, subscribed = Subject("telegram", "301"), Subject("telegram", "302"), NEW
    for subject in (gone, recent, subscribed):
        fill_resident(sessions, subject)
    opt_out(sessions, gone, days_ago=400)
    opt_out(sessions, recent, days_ago=10)  # the subscriber row itself is old: see below
    set_subscriber(sessions, gone, updated_days=800, consent_days=400)
    set_subscriber(sessions, subscribed, updated_days=800, consent_days=800)
    hashed = address_index(recent.channel, recent.address)
    with sessions.begin() as s:  # the opt-in was long ago; only the opt-out is recent
        s.execute(
            update(ConsentEvent)
            .where(ConsentEvent.address_hash == hashed, ConsentEvent.action == "opt_in")
            .values(at=NOW - timedelta(days=800), recorded_at=NOW - timedelta(days=800))
        )
        s.execute(
            update(ConsentEvent)
            .where(ConsentEvent.address_hash == hashed, ConsentEvent.action == "opt_out")
            .values(recorded_at=NOW - timedelta(days=10))
        )
        s.execute(
            update(Subscriber)
            .where(Subscriber.address_hash == address_index(recent.channel, recent.address))
            .values(updated_at=NOW - timedelta(days=800))
        )
    with sessions.begin() as s:
        dry = purge(s, retention_days=DAYS, now=NOW, dry_run=True)
    assert dry["subscribers"] == 1
    assert count(sessions, Subscriber) == 3
    with sessions.begin() as s:
        done = purge(s, retention_days=DAYS, now=NOW)
    assert done["subscribers"] == 1
    with sessions() as s:
        left = set(s.scalars(select(Subscriber.address)))
        ledger = s.scalars(
            select(ConsentEvent.action).where(
                ConsentEvent.address_hash == address_index(gone.channel, gone.address)
            )
        ).all()
    assert left == {recent.address, subscribed.address}
    assert sorted(ledger) == ["opt_in", "opt_out"]  # the proof of consent stays
    assert count(sessions, CampaignRecipient) == 2  # the purged subscriber's outbox went too


def test_unreachable_subscribers_are_still_purged(sessions: sessionmaker[Session]) -> None:
    fill_resident(sessions, OLD)
    with sessions.begin() as s:
        s.execute(update(Subscriber).values(active=False, inactive_reason="blocked"))
    set_subscriber(sessions, OLD, updated_days=400, consent_days=400)
    with sessions.begin() as s:
        assert purge(s, retention_days=DAYS, now=NOW)["subscribers"] == 1


def test_words_before_consent_are_removed_after_the_intake_ttl(
    sessions: sessionmaker[Session],
) -> None:
    from bot.db import conversation_repo as repo
    from bot.frontdesk import restore_state, stored_state
    from bot.privacy.retention import expire_intakes
    from flows.state import DialogueState, Intake, Step

    def waiting(address: str, minutes: int) -> None:
        intake = Intake(text="mia figlia ha 2 anni", at=NOW - timedelta(minutes=minutes))
        state = DialogueState(step=Step.CONSENT, intake=intake)
        with sessions.begin() as s:
            conv = repo.lock_conversation(s, channel="webchat", address=address)
            repo.save_state(s, conversation=conv, name="consent", data=stored_state(state))
            s.flush()
            s.execute(
                update(ConversationState)
                .where(ConversationState.conversation_id == conv.id)
                .values(updated_at=NOW - timedelta(minutes=minutes))
            )

    waiting("session-old-0001", minutes=45)
    waiting("session-new-0001", minutes=5)
    with sessions.begin() as s:
        assert expire_intakes(s, now=NOW) == 1
    with sessions() as s:
        states = {
            c.address: restore_state(repo.load_state(s, conversation=c))
            for c in s.scalars(select(Conversation))
        }
    assert states["session-old-0001"].intake is None
    assert states["session-new-0001"].intake is not None
    assert states["session-new-0001"].intake.text == "mia figlia ha 2 anni"
