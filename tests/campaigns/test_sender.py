"""The sender against the fake Telegram and Twilio servers (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

import asyncio
import gc
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.campaigns import claims, report, store
from bot.campaigns.audience import Audience, audience_size
from bot.campaigns.sender import SendRefused, send_campaign
from bot.campaigns.subscriptions import Consent, unsubscribe
from bot.campaigns.transport import campaign_channels
from bot.channels.base import OutboundMessage
from bot.channels.whatsapp import WINDOW_MARGIN
from bot.db import channel_repo
from bot.db.base import utcnow
from bot.db.campaign_models import Campaign, CampaignRecipient, Subscriber
from bot.db.channel_models import ChannelContact
from bot.settings import CampaignsConfig, Settings
from tests.campaigns.conftest import OPEN, add_subscribers, fast_config
from tests.channels.fakes import (
    FakeTelegram,
    FakeTwilio,
    blocked_by_user,
    retry_after,
    twilio_error,
)

WA = "whatsapp:+393330000001"


def create(sessions: sessionmaker[Session], audience: Audience | None = None) -> int:
    with sessions.begin() as s:
        campaign, _ = store.create_campaign(
            s,
            title="Centri estivi",
            text="Iscrizioni aperte!",
            audience=audience or Audience(),
        )
        return campaign.id


def send(
    settings: Settings,
    sessions: sessionmaker[Session],
    campaign_id: int,
    config: CampaignsConfig | None = None,
    **kwargs: object,
) -> object:
    async def go() -> object:
        async with campaign_channels(settings, sessions) as channels:
            return await send_campaign(
                sessions=sessions,
                campaign_id=campaign_id,
                channels=channels,
                config=config or fast_config(),
                now=kwargs.pop("now", lambda: OPEN),  # type: ignore[arg-type]
                **kwargs,  # type: ignore[arg-type]
            )

    return asyncio.run(go())


def summary(sessions: sessionmaker[Session], campaign_id: int) -> dict[str, object]:
    with sessions() as s:
        return report.summary(s, campaign=s.get_one(Campaign, campaign_id))


def test_every_recipient_gets_one_message_with_a_way_out(
    channel_settings: Settings,
    sessions: sessionmaker[Session],
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
) -> None:
    add_subscribers(sessions, [("telegram", str(1000 + i)) for i in range(20)] + [("whatsapp", WA)])
    campaign_id = create(sessions)
    send(channel_settings, sessions, campaign_id)
    assert sorted(fake_telegram.sent_per_chat.values()) == [1] * 20
    tg = fake_telegram.named("sendMessage")[0].params
    assert tg["text"] == "Iscrizioni aperte!"
    assert tg["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "menu:stop"
    [wa] = fake_twilio.calls  # outside the 24h window: the approved template
    assert wa.params["ContentSid"].startswith("HX")
    assert "Iscrizioni aperte!" in wa.params["ContentVariables"]
    result = summary(sessions, campaign_id)
    assert result["recipients"] == 21 and result["sent"] == 21 and result["status"] == "done"

    with sessions.begin() as s:  # Twilio's status callback, as the webhook stores it
        sid = s.scalars(
            select(CampaignRecipient.external_id).where(CampaignRecipient.channel == "whatsapp")
        ).one()
        assert sid == fake_twilio.sids[0]  # the MessageSid the API answered, stored with it
        stored = channel_repo.outbound_status(s, channel="whatsapp", external_id=sid)
        assert stored is not None
        assert stored.address_hash == crypto.address_index("whatsapp", WA)
        channel_repo.record_status(s, channel="whatsapp", external_id=sid, status="read")
    assert summary(sessions, campaign_id)["read"] == 1


def test_inside_the_window_whatsapp_gets_free_text(
    channel_settings: Settings, sessions: sessionmaker[Session], fake_twilio: FakeTwilio
) -> None:
    add_subscribers(sessions, [("whatsapp", WA)])
    with sessions.begin() as s:
        channel_repo.accept_inbound(s, channel="whatsapp", address=WA, external_id=None)
    send(channel_settings, sessions, create(sessions))
    body = fake_twilio.calls[0].params["Body"]
    assert body.startswith("Iscrizioni aperte!") and "STOP" in body


def test_a_window_about_to_close_gets_the_template(
    channel_settings: Settings, sessions: sessionmaker[Session], fake_twilio: FakeTwilio
) -> None:
    # Windows are looked up with the reservation, before the send: one closing within
    # WINDOW_MARGIN could close before the API call, and free text would then be refused.
    closing, open_ = WA, "whatsapp:+393330000002"
    add_subscribers(sessions, [("whatsapp", closing), ("whatsapp", open_)])
    hours = channel_settings.config.whatsapp.window_hours
    with sessions.begin() as s:
        for address in (closing, open_):
            channel_repo.accept_inbound(s, channel="whatsapp", address=address, external_id=None)
        s.execute(
            update(ChannelContact)
            .where(ChannelContact.address_hash == crypto.address_index("whatsapp", closing))
            .values(last_inbound_at=utcnow() - timedelta(hours=hours) + WINDOW_MARGIN / 2)
        )
    send(channel_settings, sessions, create(sessions))
    by_number = {call.params["To"]: call.params for call in fake_twilio.calls}
    assert by_number[closing]["ContentSid"].startswith("HX") and "Body" not in by_number[closing]
    assert by_number[open_]["Body"].startswith("Iscrizioni aperte!")


def test_the_heap_before_a_send_is_out_of_the_collectors_sight_until_it_ends(
    channel_settings: Settings, sessions: sessionmaker[Session], fake_telegram: FakeTelegram
) -> None:
    # A full collection over the app's objects stalls the loop ~100 ms: the requests paced
    # meanwhile would reach the provider together, above its per-second limit.
    add_subscribers(sessions, [("telegram", "1001")])
    campaign_id = create(sessions)
    frozen: list[int] = []

    async def go() -> None:
        async with campaign_channels(channel_settings, sessions) as channels:
            telegram = channels["telegram"]
            send_one = telegram.send

            async def counted(message: OutboundMessage) -> str | None:
                frozen.append(gc.get_freeze_count())
                return await send_one(message)

            telegram.send = counted  # type: ignore[method-assign]
            await send_campaign(
                sessions=sessions,
                campaign_id=campaign_id,
                channels=channels,
                config=fast_config(),
                now=lambda: OPEN,
            )

    asyncio.run(go())
    assert len(frozen) == 1 and frozen[0] > 10_000
    assert gc.get_freeze_count() == 0


def test_blocked_and_unsubscribed_numbers_become_inactive(
    channel_settings: Settings,
    sessions: sessionmaker[Session],
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
) -> None:
    add_subscribers(sessions, [("telegram", "2001"), ("whatsapp", WA)])
    fake_telegram.fail_next["sendMessage"] = [blocked_by_user()]
    fake_twilio.fail_next.append(twilio_error(21610, "Attempt to send to unsubscribed recipient"))
    campaign_id = create(sessions)
    send(channel_settings, sessions, campaign_id)
    result = summary(sessions, campaign_id)
    assert result["failed"] == 2 and result["failures"] == {"blocked": 1, "unsubscribed": 1}
    with sessions() as s:
        assert [sub.active for sub in s.scalars(select(Subscriber))] == [False, False]
    assert summary(sessions, create(sessions))["recipients"] == 0  # never again


def test_opt_out_after_creation_is_skipped(
    channel_settings: Settings, sessions: sessionmaker[Session], fake_telegram: FakeTelegram
) -> None:
    add_subscribers(sessions, [("telegram", "3001"), ("telegram", "3002")])
    campaign_id = create(sessions)
    with sessions.begin() as s:
        unsubscribe(s, channel="telegram", address="3001", consent=Consent("stop", "v1", "STOP"))
    send(channel_settings, sessions, campaign_id)
    assert dict(fake_telegram.sent_per_chat) == {"3002": 1}
    assert summary(sessions, campaign_id)["skipped_reasons"] == {"opted_out": 1}


def test_audience_filters_by_topic_comune_and_channel(sessions: sessionmaker[Session]) -> None:
    add_subscribers(sessions, [("telegram", "1")], topics=("caregiver",), comune="Tradate")
    add_subscribers(sessions, [("telegram", "2")], topics=("novita",), comune="Vedano Olona")
    add_subscribers(sessions, [("whatsapp", WA)], topics=("caregiver", "novita"), comune="Tradate")
    with sessions() as s:
        size = lambda **kw: audience_size(s, audience=Audience(**kw))  # noqa: E731
        assert size() == 3
        assert size(topics=("caregiver",)) == 2
        assert size(topics=("caregiver",), channel="telegram") == 1
        assert size(comuni=("Vedano Olona",)) == 1


def test_telegram_429_and_twilio_429_are_honoured(
    channel_settings: Settings,
    sessions: sessionmaker[Session],
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
) -> None:
    add_subscribers(sessions, [("telegram", "4001"), ("whatsapp", WA)])
    fake_telegram.fail_next["sendMessage"] = [retry_after(1)]
    fake_twilio.fail_next.append(
        (429, {"code": 20429, "message": "Too Many Requests", "status": 429})
    )
    campaign_id = create(sessions)
    send(channel_settings, sessions, campaign_id)
    tg = fake_telegram.named("sendMessage")
    assert len(tg) == 2 and tg[1].at - tg[0].at >= 1.0  # waited retry_after
    assert len(fake_twilio.calls) == 2 and fake_twilio.calls[1].at - fake_twilio.calls[0].at >= 0.9
    assert summary(sessions, campaign_id)["sent"] == 2
    assert dict(fake_telegram.sent_per_chat) == {"4001": 1}


def test_rows_in_flight_at_a_crash_are_uncertain_and_not_resent(
    channel_settings: Settings, sessions: sessionmaker[Session], fake_telegram: FakeTelegram
) -> None:
    add_subscribers(sessions, [("telegram", "5001"), ("telegram", "5002")])
    campaign_id = create(sessions)
    with sessions.begin() as s:  # a sender claimed 5001 and died
        claimed = claims.claim(s, campaign_id=campaign_id, worker="dead")
        assert claimed is not None and claimed.address == "5001"
        s.execute(
            update(CampaignRecipient)
            .values(claimed_at=datetime.now(UTC) - timedelta(hours=1))
            .where(CampaignRecipient.id == claimed.id)
        )
    send(channel_settings, sessions, campaign_id)
    assert dict(fake_telegram.sent_per_chat) == {"5002": 1}
    result = summary(sessions, campaign_id)
    assert (result["uncertain"], result["sent"], result["pending"]) == (1, 1, 0)


@pytest.mark.parametrize(
    "local", ["2026-11-23T20:30", "2026-11-24T08:59", "2026-12-25T11:00", "2026-12-08T10:00"]
)
def test_quiet_hours_and_holidays_refuse_unless_forced(
    channel_settings: Settings,
    sessions: sessionmaker[Session],
    fake_telegram: FakeTelegram,
    local: str,
) -> None:
    add_subscribers(sessions, [("telegram", "6001")])
    campaign_id = create(sessions)
    from zoneinfo import ZoneInfo

    frozen = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("Europe/Rome"))
    with pytest.raises(SendRefused, match="usa --force"):
        send(channel_settings, sessions, campaign_id, now=lambda: frozen)
    assert fake_telegram.sent_per_chat == {}
    send(channel_settings, sessions, campaign_id, now=lambda: frozen, force=True)
    assert dict(fake_telegram.sent_per_chat) == {"6001": 1}


def test_a_late_permanent_failure_skips_and_deactivates(
    channel_settings: Settings, sessions: sessionmaker[Session], fake_twilio: FakeTwilio
) -> None:
    add_subscribers(sessions, [("whatsapp", WA)])
    campaign_id = create(sessions)
    earlier = "SM" + "1" * 32
    with sessions.begin() as s:  # an earlier message, then its status callback: 63016, gone
        channel_repo.record_sent(s, channel="whatsapp", sent=[(earlier, WA)])
        channel_repo.record_status(
            s,
            channel="whatsapp",
            external_id=earlier,
            status="failed",
            error_code=63016,
            recipient_gone=True,
        )
    send(channel_settings, sessions, campaign_id)
    assert fake_twilio.calls == []
    assert summary(sessions, campaign_id)["skipped_reasons"] == {"provider_refused": 1}
    with sessions() as s:
        assert s.scalars(select(Subscriber.inactive_reason)).one() == "provider_refused"
