"""Subscribing and opting out from the chat, on Telegram and WhatsApp, through the real app."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.db.campaign_models import ConsentEvent, Subscriber, Subscription
from tests.campaigns.conftest import add_subscribers
from tests.channels.conftest import post_twilio, post_update
from tests.channels.fakes import FakeTelegram, FakeTwilio
from tests.channels.payloads import CHAT_ID, SENDER, tg_callback, tg_text, wa_form
from tests.conftest import FakeRasa, rasa_says


def topics_of(sessions: sessionmaker[Session], channel: str, address: str) -> list[str]:
    with sessions() as s:
        stmt = (
            select(Subscription.topic)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(
                Subscriber.channel == channel,
                Subscriber.address_hash == crypto.address_index(channel, address),
            )
        )
        return sorted(s.scalars(stmt))


def ledger(sessions: sessionmaker[Session]) -> list[ConsentEvent]:
    with sessions() as s:
        return list(s.scalars(select(ConsentEvent).order_by(ConsentEvent.id)))


def test_telegram_subscribe_then_stop(
    client: TestClient, fake_telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    post_update(client, tg_text("ciao"))
    post_update(client, tg_callback("consent:yes"))
    post_update(client, tg_callback("sub:prima_infanzia"))
    assert topics_of(sessions, "telegram", str(CHAT_ID)) == ["prima_infanzia"]
    assert "STOP" in fake_telegram.named("sendMessage")[-1].params["text"]

    post_update(client, tg_text("STOP"))
    assert topics_of(sessions, "telegram", str(CHAT_ID)) == []
    replies = fake_telegram.named("sendMessage")
    assert "non ti manderò più" in replies[-1].params["text"]
    opt_in, opt_out = ledger(sessions)  # the ledger keeps both, without the chat id
    assert (opt_in.action, opt_in.topic, opt_in.evidence) == (
        "opt_in",
        "prima_infanzia",
        "sub:prima_infanzia",
    )
    assert (
        opt_in.wording_version
        == client.app.state.services.settings.config.campaigns.wording_version
    )  # type: ignore[attr-defined]
    assert (opt_out.action, opt_out.source, opt_out.evidence) == ("opt_out", "stop", "STOP")
    assert str(CHAT_ID) not in opt_in.address_hash


def test_whatsapp_subscribe_by_number_then_basta(
    client: TestClient,
    fake_twilio: FakeTwilio,
    fake_rasa: FakeRasa,
    sessions: sessionmaker[Session],
) -> None:
    fake_rasa.table["voglio ricevere aggiornamenti"] = rasa_says("iscrizione_aggiornamenti")
    post_twilio(client, "/webhooks/whatsapp", wa_form("ciao"))
    post_twilio(client, "/webhooks/whatsapp", wa_form("1"))  # consent: yes
    post_twilio(client, "/webhooks/whatsapp", wa_form("voglio ricevere aggiornamenti"))
    offer = fake_twilio.shown(fake_twilio.calls[-1].params)  # an interactive list
    assert offer is not None and offer.full_titles[0] == "Tutte le novità della Rete"
    post_twilio(client, "/webhooks/whatsapp", wa_form("1"))  # typed: still the first option
    assert topics_of(sessions, "whatsapp", SENDER) == ["novita"]

    post_twilio(client, "/webhooks/whatsapp", wa_form("Basta"))
    assert topics_of(sessions, "whatsapp", SENDER) == []
    assert [e.action for e in ledger(sessions)] == ["opt_in", "opt_out"]


def test_stop_without_subscription_writes_no_ledger_entry(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    post_update(client, tg_text("/stop"))
    assert ledger(sessions) == []


def test_the_campaign_button_unsubscribes_a_resident_who_never_chatted(
    client: TestClient, fake_telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    add_subscribers(sessions, [("telegram", str(CHAT_ID))])  # imported from a paper form
    post_update(client, tg_callback("menu:stop"))
    assert topics_of(sessions, "telegram", str(CHAT_ID)) == []
    [reply] = fake_telegram.named("sendMessage")
    assert "non ti manderò più" in reply.params["text"]
    assert ledger(sessions)[-1].evidence == "menu:stop"
