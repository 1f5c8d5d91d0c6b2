"""Interactive WhatsApp buttons over real HTTP: the real twilio Client, a fake Twilio with
the Content API, the real app and database."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.channels.base import OutboundMessage
from bot.channels.whatsapp import WhatsApp, build_client
from bot.db import channel_repo
from bot.db import conversation_repo as repo
from bot.db.base import utcnow
from bot.db.channel_models import ChannelContact, WhatsAppContent
from bot.settings import Settings
from flows.replies import Button, Reply
from tests.channels.conftest import post_twilio
from tests.channels.fakes import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, Shown
from tests.channels.payloads import OUR_NUMBER, SENDER, wa_button, wa_form, wa_list_reply
from tests.conftest import PUBLIC_BASE_URL, TEMPLATE_SID

INBOUND = "/webhooks/whatsapp"
CATEGORIES = (  # the nine needs of the interview: several longer than a list item's 24
    Button("Nido e bimbi 0-3 anni", "cat:prima_infanzia"),
    Button("Pre e post scuola, compiti", "cat:extrascuola"),
    Button("Centri estivi e vacanze", "cat:chiusure_scolastiche"),
    Button("Aiuto a casa per anziani", "cat:domiciliarita"),
    Button("Badante e chi assiste", "cat:caregiver"),
    Button("Disabilità", "cat:disabilita"),
    Button("Sostegno psicologico e genitori", "cat:benessere"),
    Button("Smart working e orari", "cat:lavoro_flessibile"),
    Button("Servizi salvatempo", "cat:salvatempo"),
)
YES_NO = (Button("Sì", "yes"), Button("No", "no"))


@pytest.fixture
def whatsapp(client: TestClient, sessions: sessionmaker[Session]) -> WhatsApp:
    """The app's adapter, for a resident whose 24-hour window is open."""
    with sessions.begin() as s:
        channel_repo.accept_inbound(s, channel="whatsapp", address=SENDER, external_id=None)
    adapter: WhatsApp = client.app.state.services.channels["whatsapp"]  # type: ignore[attr-defined]
    return adapter


def send(client: TestClient, adapter: WhatsApp, reply: Reply) -> str | None:
    sid: str | None = client.portal.call(adapter.send, OutboundMessage("whatsapp", SENDER, reply))
    return sid


def shown_last(fake: FakeTwilio) -> Shown:
    shown = fake.shown(fake.calls[-1].params)
    assert shown is not None, fake.calls[-1].params
    return shown


def contents_stored(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(WhatsAppContent)) or 0


@pytest.mark.parametrize("buttons", [YES_NO, (*YES_NO, Button("Non lo so", "eta:unknown"))])
def test_two_or_three_buttons_are_a_quick_reply(
    client: TestClient,
    whatsapp: WhatsApp,
    fake_twilio: FakeTwilio,
    sessions: sessionmaker[Session],
    buttons: tuple[Button, ...],
) -> None:
    sid = send(client, whatsapp, Reply("Hai figli sotto i 3 anni?", buttons))
    [created] = fake_twilio.content_calls
    [sent] = fake_twilio.calls
    assert sent.params["ContentSid"] in fake_twilio.contents and "Body" not in sent.params
    assert json.loads(sent.params["ContentVariables"]) == {"1": "Hai figli sotto i 3 anni?"}
    shown = shown_last(fake_twilio)
    assert shown.content_type == "twilio/quick-reply" == next(iter(created.params["types"]))
    assert shown.titles == tuple(b.title for b in buttons)
    assert shown.payloads == tuple(b.payload for b in buttons)
    # Delivery statuses find the resident by this MessageSid, as for text replies.
    assert sid == fake_twilio.sids[-1]
    with sessions() as s:
        row = channel_repo.outbound_status(s, channel="whatsapp", external_id=sid)
        assert row is not None and row.address_hash == crypto.address_index("whatsapp", SENDER)


def test_nine_categories_are_a_list_with_shortened_titles_and_every_payload(
    client: TestClient, whatsapp: WhatsApp, fake_twilio: FakeTwilio
) -> None:
    send(client, whatsapp, Reply("Di cosa hai bisogno?", CATEGORIES))
    shown = shown_last(fake_twilio)
    assert shown.content_type == "twilio/list-picker" and shown.text == "Di cosa hai bisogno?"
    assert shown.payloads == tuple(b.payload for b in CATEGORIES)
    assert shown.full_titles == tuple(b.title for b in CATEGORIES)  # whole in the description
    assert "Pre e post scuola…" in shown.titles and all(len(t) <= 24 for t in shown.titles)
    assert shown.titles[5] == "Disabilità"  # fits: shown as it is


def test_content_is_created_once_and_reused_by_every_process(
    client: TestClient,
    whatsapp: WhatsApp,
    fake_twilio: FakeTwilio,
    sessions: sessionmaker[Session],
    channel_settings: Settings,
    fake_twilio_server: tuple[FakeTwilio, str],
) -> None:
    send(client, whatsapp, Reply("Prima domanda?", YES_NO))
    send(client, whatsapp, Reply("Un'altra domanda, stessi bottoni?", YES_NO))
    assert len(fake_twilio.content_calls) == 1
    first, second = (c.params["ContentSid"] for c in fake_twilio.calls)
    assert first == second
    # Another worker process: its own client and memory, the same database.
    other = WhatsApp(
        client=build_client(ACCOUNT_SID, AUTH_TOKEN, base_url=fake_twilio_server[1]),
        auth_token=AUTH_TOKEN,
        sender=OUR_NUMBER,
        sessions=sessions,
        status_callback=PUBLIC_BASE_URL + "/webhooks/whatsapp/status",
        config=channel_settings.config.whatsapp,
    )
    send(client, other, Reply("Dall'altro processo?", YES_NO))
    assert len(fake_twilio.content_calls) == 1
    assert fake_twilio.calls[-1].params["ContentSid"] == first
    assert contents_stored(sessions) == 1
    send(client, other, Reply("Altri bottoni", CATEGORIES))
    assert len(fake_twilio.content_calls) == 2 and contents_stored(sessions) == 2


def test_content_api_failure_sends_numbered_text_and_logs_nothing_personal(
    client: TestClient,
    whatsapp: WhatsApp,
    fake_twilio: FakeTwilio,
    sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_twilio.fail_content_next.append((503, {"code": 20500, "message": "Unavailable"}))
    caplog.set_level(logging.INFO)
    send(client, whatsapp, Reply("Il tuo bambino ha meno di 3 anni?", YES_NO))
    [sent] = fake_twilio.calls
    assert sent.params["Body"] == "Il tuo bambino ha meno di 3 anni?\n\n1. Sì\n2. No"
    assert "ContentSid" not in sent.params and contents_stored(sessions) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("numbered text" in w for w in warnings), warnings
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("bambino", SENDER, SENDER.removeprefix("whatsapp:+")):
        assert secret not in logged
    # A failure is not remembered: the next reply tries the Content API again.
    send(client, whatsapp, Reply("E adesso?", YES_NO))
    assert len(fake_twilio.content_calls) == 2 and shown_last(fake_twilio).text == "E adesso?"


def test_a_content_refused_at_send_falls_back_and_is_created_again(
    client: TestClient, whatsapp: WhatsApp, fake_twilio: FakeTwilio
) -> None:
    send(client, whatsapp, Reply("Prima?", YES_NO))
    fake_twilio.deleted.add(fake_twilio.calls[-1].params["ContentSid"])  # e.g. in the Console
    send(client, whatsapp, Reply("Poi?", YES_NO))
    refused, fallback = fake_twilio.calls[-2:]
    assert "ContentSid" in refused.params and fallback.params["Body"] == "Poi?\n\n1. Sì\n2. No"
    send(client, whatsapp, Reply("Infine?", YES_NO))
    assert len(fake_twilio.content_calls) == 2 and shown_last(fake_twilio).text == "Infine?"


def test_more_than_ten_buttons_are_numbered_text(
    client: TestClient, whatsapp: WhatsApp, fake_twilio: FakeTwilio
) -> None:
    buttons = tuple(Button(f"Opzione {n}", f"n:{n}") for n in range(1, 12))
    send(client, whatsapp, Reply("Scegli", buttons))
    assert fake_twilio.content_calls == []
    assert fake_twilio.calls[-1].params["Body"].endswith("\n10. Opzione 10\n11. Opzione 11")


def test_text_beyond_the_body_limit_goes_first_and_the_buttons_come_last(
    client: TestClient, whatsapp: WhatsApp, fake_twilio: FakeTwilio
) -> None:
    paragraphs = [f"Paragrafo {n}: " + "parola " * 60 for n in range(1, 5)]  # ~1,700 chars
    send(client, whatsapp, Reply("\n\n".join(paragraphs), YES_NO))
    plain = fake_twilio.calls[:-1]
    assert plain and all("ContentSid" not in c.params for c in plain)
    shown = shown_last(fake_twilio)
    assert len(shown.text) <= 1024 and shown.payloads == ("yes", "no")
    seen = " ".join([*(c.params["Body"] for c in plain), shown.text])
    assert seen.split() == "\n\n".join(paragraphs).split()  # nothing lost, nothing twice


def test_outside_the_window_the_template_is_unchanged(
    client: TestClient, whatsapp: WhatsApp, fake_twilio: FakeTwilio, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        s.execute(update(ChannelContact).values(last_inbound_at=utcnow() - timedelta(hours=25)))
    send(client, whatsapp, Reply("Il Social Point ti ha risposto", YES_NO))
    sent = fake_twilio.calls[-1].params
    assert sent["ContentSid"] == TEMPLATE_SID and fake_twilio.content_calls == []
    assert json.loads(sent["ContentVariables"]) == {
        "1": "Il Social Point ti ha risposto 1. Sì 2. No"
    }


def test_taps_and_list_picks_reach_the_flow_as_payloads(
    client: TestClient, fake_twilio: FakeTwilio, sessions: sessionmaker[Session]
) -> None:
    post_twilio(client, INBOUND, wa_form("ciao"))
    consent = shown_last(fake_twilio)
    assert consent.content_type == "twilio/quick-reply"
    post_twilio(client, INBOUND, wa_button(consent.payloads[0], consent.titles[0]))
    categories = shown_last(fake_twilio)
    assert categories.content_type == "twilio/list-picker"
    picked = categories.payloads.index("cat:benessere")
    post_twilio(client, INBOUND, wa_list_reply("cat:benessere", categories.titles[picked]))
    with sessions() as s:
        inbound = [
            m for m in repo.transcript(s, channel="whatsapp", address=SENDER) if m.direction == "in"
        ]
        conv = repo.lock_conversation(s, channel="whatsapp", address=SENDER)
        state = repo.load_state(s, conversation=conv) or {}
    assert [m.payload for m in inbound if m.payload] == ["consent:yes", "cat:benessere"]
    assert inbound[-1].text == "Sostegno psicologico…"
    assert state["consent"] is True and state["need"]["categoria"] == "benessere"
