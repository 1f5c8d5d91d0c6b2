"""Batched claims: rows are reserved several at a time but marked in flight one by one, right
before their API call, so a crash leaves uncertain only what may have reached the provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns import claims, group_commit
from bot.campaigns.attempt import Result
from bot.campaigns.subscriptions import Consent, unsubscribe
from bot.db.campaign_models import CampaignRecipient, RecipientStatus
from tests.campaigns.conftest import add_subscribers
from tests.campaigns.test_sender import create, send, summary
from tests.channels.fakes import FakeTelegram

LEASE = timedelta(seconds=30)


def statuses(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as s:
        stmt = select(CampaignRecipient.status, func.count()).group_by(CampaignRecipient.status)
        return {status: n for status, n in s.execute(stmt).tuples()}


def test_a_reservation_is_not_a_claim(sessions: sessionmaker[Session]) -> None:
    add_subscribers(sessions, [("telegram", str(100 + i)) for i in range(6)])
    campaign_id = create(sessions)
    with sessions.begin() as s:
        mine = claims.reserve(s, campaign_id=campaign_id, worker="a", size=4, lease=LEASE)
    assert [c.address for c in mine] == ["100", "101", "102", "103"]
    assert statuses(sessions) == {RecipientStatus.PENDING: 6}  # nothing in flight yet
    with sessions.begin() as s:  # another sender gets the rest, not ours
        theirs = claims.reserve(s, campaign_id=campaign_id, worker="b", size=4, lease=LEASE)
        assert [c.address for c in theirs] == ["104", "105"]
        assert not claims.start(s, claimed=mine[0], worker="b")  # not b's to send
        assert claims.start(s, claimed=mine[0], worker="a")
        assert not claims.start(s, claimed=mine[0], worker="a")  # only once
    assert statuses(sessions) == {RecipientStatus.PENDING: 5, RecipientStatus.INFLIGHT: 1}


def test_a_dead_senders_reservations_go_back_to_the_pool_not_to_uncertain(
    sessions: sessionmaker[Session],
) -> None:
    add_subscribers(sessions, [("telegram", str(200 + i)) for i in range(4)])
    campaign_id = create(sessions)
    with sessions.begin() as s:  # "dead" reserved 4 and sent the first one, then died
        dead = claims.reserve(s, campaign_id=campaign_id, worker="dead", size=4, lease=LEASE)
        assert claims.start(s, claimed=dead[0], worker="dead")
    with sessions.begin() as s:  # within the lease: nobody else takes them
        assert claims.reserve(s, campaign_id=campaign_id, worker="b", size=4, lease=LEASE) == []
        s.execute(
            update(CampaignRecipient).values(claimed_at=datetime.now(UTC) - timedelta(hours=1))
        )
        recovered = claims.recover(s, campaign_id=campaign_id, older_than=LEASE)
        taken = claims.reserve(s, campaign_id=campaign_id, worker="b", size=4, lease=LEASE)
        assert recovered == 1  # only the one that may have reached the provider
        assert [c.address for c in taken] == ["201", "202", "203"]
        assert not claims.start(s, claimed=dead[1], worker="dead")  # lapsed: b's now
    assert statuses(sessions) == {RecipientStatus.UNCERTAIN: 1, RecipientStatus.PENDING: 3}


def test_an_opt_out_after_the_reservation_is_still_skipped(
    sessions: sessionmaker[Session],
) -> None:
    add_subscribers(sessions, [("telegram", "301"), ("telegram", "302")])
    campaign_id = create(sessions)
    with sessions.begin() as s:
        first, second = claims.reserve(s, campaign_id=campaign_id, worker="a", size=2, lease=LEASE)
    with sessions.begin() as s:
        unsubscribe(s, channel="telegram", address="302", consent=Consent("stop", "v1", "STOP"))
    with sessions.begin() as s:
        assert claims.start(s, claimed=first, worker="a")
        assert not claims.start(s, claimed=second, worker="a")  # released, not sent
        assert claims.reserve(s, campaign_id=campaign_id, worker="a", size=2, lease=LEASE) == []
    assert statuses(sessions) == {RecipientStatus.INFLIGHT: 1, RecipientStatus.SKIPPED: 1}


def test_the_sender_leaves_no_reservation_behind(
    channel_settings: object,
    sessions: sessionmaker[Session],
    fake_telegram: FakeTelegram,
) -> None:
    add_subscribers(sessions, [("telegram", str(400 + i)) for i in range(23)])
    campaign_id = create(sessions)
    send(channel_settings, sessions, campaign_id)  # type: ignore[arg-type]
    assert set(fake_telegram.sent_per_chat.values()) == {1}
    assert len(fake_telegram.sent_per_chat) == 23
    assert summary(sessions, campaign_id)["sent"] == 23
    with sessions() as s:
        attempts = s.scalars(select(CampaignRecipient.attempts).distinct()).all()
    assert attempts == [1]


def test_steps_asked_together_are_one_transaction(sessions: sessionmaker[Session]) -> None:
    add_subscribers(sessions, [("telegram", str(400 + i)) for i in range(3)])
    campaign_id = create(sessions)
    with sessions.begin() as s:
        first, second, third = claims.reserve(
            s, campaign_id=campaign_id, worker="a", size=3, lease=LEASE
        )
    assert group_commit.apply_steps(sessions, [(None, first)], "a") == [True]  # sent meanwhile
    commits: list[object] = []
    bind, count = sessions.kw["bind"], commits.append
    event.listen(bind, "commit", count)
    try:
        started = group_commit.apply_steps(
            sessions,
            [((first, Result(RecipientStatus.SENT)), second), (None, third)],
            "a",
        )
    finally:
        event.remove(bind, "commit", count)
    assert started == [True, True] and len(commits) == 1
    assert statuses(sessions) == {RecipientStatus.SENT: 1, RecipientStatus.INFLIGHT: 2}
