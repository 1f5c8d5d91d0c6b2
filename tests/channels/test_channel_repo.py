"""Receipts, service windows and delivery statuses on every database backend."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.db import channel_repo as repo
from bot.db.base import utcnow
from bot.db.channel_models import ChannelContact, InboundReceipt

ADDRESS = "whatsapp:+393330000001"


def accept(
    sessions: sessionmaker[Session], external_id: str | None, address: str = ADDRESS
) -> bool:
    with sessions.begin() as s:
        return repo.accept_inbound(s, channel="whatsapp", address=address, external_id=external_id)


def test_a_redelivery_is_refused(sessions: sessionmaker[Session]) -> None:
    assert accept(sessions, "SM1") is True
    assert accept(sessions, "SM1") is False
    assert accept(sessions, "SM2") is True
    assert accept(sessions, None) is True  # no id: nothing to deduplicate on


def test_concurrent_redeliveries_are_accepted_once(sessions: sessionmaker[Session]) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: accept(sessions, "SM-race"), range(16)))
    assert results.count(True) == 1
    with sessions() as s:
        assert len(s.scalars(select(InboundReceipt)).all()) == 1


def test_window_tracks_the_last_inbound_without_the_number(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        assert repo.last_inbound_many(s, channel="whatsapp", addresses=[ADDRESS]) == {}
    accept(sessions, "SM1")
    with sessions() as s:
        last = repo.last_inbound_many(s, channel="whatsapp", addresses=[ADDRESS]).get(ADDRESS)
        stored = s.scalars(select(ChannelContact.address_hash)).one()
    assert last is not None and "3330000001" not in stored


def test_statuses_only_move_forward(sessions: sessionmaker[Session]) -> None:
    def record(status: str) -> bool:
        with sessions.begin() as s:
            return repo.record_status(s, channel="whatsapp", external_id="SMx", status=status)

    assert record("delivered") is True  # the callback overtook our own insert at send time
    with sessions.begin() as s:
        repo.record_sent(s, channel="whatsapp", sent=[("SMx", ADDRESS)])
    assert record("queued") is False
    assert record("sent") is False
    assert record("read") is True
    assert record("bogus") is False
    with sessions() as s:
        row = repo.outbound_status(s, channel="whatsapp", external_id="SMx")
        assert row is not None and row.status == "read"
        assert row.address_hash == crypto.address_index("whatsapp", ADDRESS)


def test_permanent_failure_marks_the_recipient(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        repo.record_sent(s, channel="whatsapp", sent=[("SMy", ADDRESS)])
        repo.record_status(
            s,
            channel="whatsapp",
            external_id="SMy",
            status="failed",
            error_code=63024,
            recipient_gone=True,
        )
    with sessions() as s:
        assert repo.recipient_gone(s, channel="whatsapp", address=ADDRESS) is True
        assert repo.recipient_gone(s, channel="whatsapp", address="whatsapp:+390000") is False


def test_forget_and_purge(sessions: sessionmaker[Session]) -> None:
    accept(sessions, "SM1")
    with sessions.begin() as s:
        repo.record_sent(s, channel="whatsapp", sent=[("SMz", ADDRESS)])
        repo.forget_address(s, channel="whatsapp", address=ADDRESS)
        assert repo.last_inbound_many(s, channel="whatsapp", addresses=[ADDRESS]) == {}
        assert repo.outbound_status(s, channel="whatsapp", external_id="SMz") is None
        assert repo.purge_receipts(s, older_than=utcnow() + timedelta(seconds=1)) == 1


def test_contents_first_stored_wins_and_a_refused_one_is_forgotten(
    sessions: sessionmaker[Session],
) -> None:
    first, second = "HX" + "1" * 32, "HX" + "2" * 32
    with sessions.begin() as s:
        assert repo.find_content(s, definition_hash="h" * 64) is None
        stored = repo.store_content(
            s, definition_hash="h" * 64, content_sid=first, content_type="twilio/quick-reply"
        )
        assert stored == first
    with sessions.begin() as s:  # another process created the same content meanwhile
        stored = repo.store_content(
            s, definition_hash="h" * 64, content_sid=second, content_type="twilio/quick-reply"
        )
        assert stored == first
    with sessions.begin() as s:
        repo.forget_content(s, definition_hash="h" * 64, content_sid=second)  # not the one kept
        assert repo.find_content(s, definition_hash="h" * 64) == first
        repo.forget_content(s, definition_hash="h" * 64, content_sid=first)
        assert repo.find_content(s, definition_hash="h" * 64) is None
