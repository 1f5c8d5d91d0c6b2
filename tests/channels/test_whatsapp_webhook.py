"""POST /webhooks/whatsapp[/status] through the real app, twilio Client and a fake Twilio."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.channels.base import OutboundMessage
from bot.channels.delivery import RecipientGone
from bot.db import channel_repo
from bot.db import conversation_repo as repo
from bot.db.base import utcnow
from bot.db.channel_models import ChannelContact, OutboundStatus
from flows.replies import Button, Reply
from tests.channels.conftest import post_twilio
from tests.channels.fakes import FakeTwilio, twilio_error
from tests.channels.payloads import (
    SENDER,
    message_sid,
    twilio_signature,
    wa_button,
    wa_form,
    wa_location,
    wa_media,
    wa_status,
)
from tests.conftest import PUBLIC_BASE_URL, TEMPLATE_SID, FakeRasa, rasa_says

INBOUND = "/webhooks/whatsapp"
STATUS = "/webhooks/whatsapp/status"


def texts(fake: FakeTwilio) -> list[str]:
    """What each message showed: its Body, or the text of an interactive one."""
    return [
        shown.text if (shown := fake.shown(c.params)) else c.params.get("Body", "")
        for c in fake.calls
    ]


def test_reply_has_buttons_and_a_typed_number_still_answers(
    client: TestClient, fake_twilio: FakeTwilio, sessions: sessionmaker[Session]
) -> None:
    resp = post_twilio(client, INBOUND, wa_form("ciao"))
    assert resp.status_code == 200 and "<Response/>" in resp.text
    [first] = fake_twilio.calls
    assert first.params["To"] == SENDER and first.params["From"] == "whatsapp:+14155238886"
    assert first.params["StatusCallback"] == PUBLIC_BASE_URL + STATUS
    consent = fake_twilio.shown(first.params)
    assert consent is not None and consent.content_type == "twilio/quick-reply"
    assert consent.payloads == ("consent:yes", "consent:no") and "Body" not in first.params
    post_twilio(client, INBOUND, wa_form("1"))  # typed: 1 = the first option, consent given
    with sessions() as s:
        conv = repo.lock_conversation(s, channel="whatsapp", address=SENDER)
        assert (repo.load_state(s, conversation=conv) or {})["consent"] is True
    assert fake_twilio.shown(fake_twilio.calls[-1].params) is not None  # the next question


def test_profile_name_is_never_stored(
    client: TestClient, fake_twilio: FakeTwilio, sessions: sessionmaker[Session]
) -> None:
    post_twilio(client, INBOUND, wa_form("ciao"))
    post_twilio(client, INBOUND, wa_form("1"))
    post_twilio(client, INBOUND, wa_form("cerco un nido"))
    with sessions() as s:
        dump = json.dumps(
            [
                (m.text, m.payload, m.attachments)
                for m in repo.transcript(s, channel="whatsapp", address=SENDER)
            ]
        )
        dump += json.dumps(
            repo.load_state(
                s, conversation=repo.lock_conversation(s, channel="whatsapp", address=SENDER)
            )
        )
    assert "Giulia" not in dump


def test_quick_reply_button_payload_is_used(
    client: TestClient, fake_twilio: FakeTwilio, sessions: sessionmaker[Session]
) -> None:
    post_twilio(client, INBOUND, wa_form("ciao"))
    post_twilio(client, INBOUND, wa_button("consent:yes", "Sì, va bene"))
    with sessions() as s:
        inbound = [
            m for m in repo.transcript(s, channel="whatsapp", address=SENDER) if m.direction == "in"
        ]
    assert inbound[-1].payload == "consent:yes"


def test_location_becomes_the_comune(
    client: TestClient,
    fake_twilio: FakeTwilio,
    fake_rasa: FakeRasa,
    sessions: sessionmaker[Session],
) -> None:
    fake_rasa.table["cerco un nido"] = rasa_says("bisogno_prima_infanzia")
    post_twilio(client, INBOUND, wa_form("cerco un nido"))
    post_twilio(client, INBOUND, wa_form("1"))
    post_twilio(client, INBOUND, wa_location(45.7760, 8.8860))  # Vedano Olona
    with sessions() as s:
        conv = repo.lock_conversation(s, channel="whatsapp", address=SENDER)
        assert (repo.load_state(s, conversation=conv) or {})["need"]["comune"] == "Vedano Olona"


def test_media_is_kept_as_an_attachment(
    client: TestClient, fake_twilio: FakeTwilio, sessions: sessionmaker[Session]
) -> None:
    post_twilio(client, INBOUND, wa_form("ciao"))
    post_twilio(client, INBOUND, wa_form("1"))
    post_twilio(client, INBOUND, wa_media("audio/ogg"))
    assert "scritti" in texts(fake_twilio)[-1]
    with sessions() as s:
        last_in = [
            m for m in repo.transcript(s, channel="whatsapp", address=SENDER) if m.direction == "in"
        ][-1]
    assert last_in.attachments and last_in.attachments[0]["kind"] == "voice"
    assert last_in.attachments[0]["ref"].startswith("https://api.twilio.com/")


def test_redelivered_message_sid_is_processed_once(
    client: TestClient, fake_twilio: FakeTwilio, fake_rasa: FakeRasa
) -> None:
    form = wa_form("ciao")
    post_twilio(client, INBOUND, form)
    post_twilio(client, INBOUND, form)
    assert len(fake_twilio.calls) == 1 and fake_rasa.calls == 1


def test_bad_signature_is_403(client: TestClient, fake_twilio: FakeTwilio) -> None:
    form = wa_form("ciao")
    resp = client.post(INBOUND, data=form, headers={"X-Twilio-Signature": "bm90IGl0"})
    assert resp.status_code == 403
    # Signed for the internal URL the app sees (http://testserver): Twilio signs the public one.
    assert (
        post_twilio(client, INBOUND, form, signed_url="http://testserver" + INBOUND).status_code
        == 403
    )
    tampered = dict(form, Body="altro")
    signature = twilio_signature(PUBLIC_BASE_URL + INBOUND, form)
    resp = client.post(INBOUND, data=tampered, headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 403
    assert fake_twilio.calls == []


def test_query_string_is_part_of_the_signed_url(
    client: TestClient, fake_twilio: FakeTwilio
) -> None:
    path = INBOUND + "?tenant=tradate"
    assert post_twilio(client, path, wa_form("ciao")).status_code == 200
    assert len(fake_twilio.calls) == 1


def test_json_body_is_415(client: TestClient) -> None:
    form = wa_form("ciao")
    signature = twilio_signature(PUBLIC_BASE_URL + INBOUND, form)
    resp = client.post(INBOUND, json=form, headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 415


def test_status_callbacks_keep_the_latest_and_ignore_regressions(
    client: TestClient, fake_twilio: FakeTwilio, sessions: sessionmaker[Session]
) -> None:
    post_twilio(client, INBOUND, wa_form("ciao"))
    [sid] = _sent_sids(sessions)
    for status in ("sent", "delivered", "sent", "read", "delivered"):
        assert post_twilio(client, STATUS, wa_status(sid, status)).status_code == 200
    with sessions() as s:
        row = channel_repo.outbound_status(s, channel="whatsapp", external_id=sid)
        assert row is not None and row.status == "read"
        assert row.address_hash == crypto.address_index("whatsapp", SENDER)


def test_permanent_failure_status_marks_the_recipient_gone(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    sid = message_sid()
    post_twilio(client, STATUS, wa_status(sid, "failed", error_code="63024"))
    with sessions() as s:
        row = channel_repo.outbound_status(s, channel="whatsapp", external_id=sid)
        assert row is not None and (row.status, row.error_code, row.recipient_gone) == (
            "failed",
            63024,
            True,
        )


def test_outside_the_window_the_template_is_sent(
    client: TestClient, fake_twilio: FakeTwilio, sessions: sessionmaker[Session]
) -> None:
    post_twilio(client, INBOUND, wa_form("ciao"))
    with sessions.begin() as s:  # the resident last wrote 25 hours ago
        s.execute(update(ChannelContact).values(last_inbound_at=utcnow() - timedelta(hours=25)))
    whatsapp = client.app.state.services.channels["whatsapp"]  # type: ignore[attr-defined]
    reply = Reply("Il Social Point ti ha risposto:\nsabato aperto", (Button("Grazie", "t"),))
    client.portal.call(whatsapp.send, OutboundMessage("whatsapp", SENDER, reply))
    sent = fake_twilio.calls[-1].params
    assert sent["ContentSid"] == TEMPLATE_SID and "Body" not in sent
    assert json.loads(sent["ContentVariables"]) == {
        "1": "Il Social Point ti ha risposto: sabato aperto 1. Grazie"
    }


def test_unsubscribed_recipient_raises_recipient_gone(
    client: TestClient, fake_twilio: FakeTwilio
) -> None:
    post_twilio(client, INBOUND, wa_form("ciao"))
    fake_twilio.fail_next.append(twilio_error(21610, "Attempt to send to unsubscribed recipient"))
    whatsapp = client.app.state.services.channels["whatsapp"]  # type: ignore[attr-defined]
    with pytest.raises(RecipientGone) as gone:
        client.portal.call(whatsapp.send, OutboundMessage("whatsapp", SENDER, Reply("Ciao")))
    assert (gone.value.reason, gone.value.code) == ("unsubscribed", 21610)


def _sent_sids(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as s:
        return list(s.scalars(select(OutboundStatus.external_id).order_by(OutboundStatus.id)))
