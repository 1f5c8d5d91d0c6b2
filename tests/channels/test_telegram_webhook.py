"""POST /webhooks/telegram through the real app, PTB Bot and a fake Bot API server."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.db.channel_models import InboundReceipt
from bot.db.delivery_models import ReplyOutbox
from bot.db.models import Conversation, ConversationState
from tests.channels.conftest import post_update, settle
from tests.channels.fakes import FakeTelegram
from tests.channels.payloads import (
    CHAT_ID,
    tg_callback,
    tg_document,
    tg_location,
    tg_photo,
    tg_sticker,
    tg_text,
    tg_voice,
)
from tests.conftest import WEBHOOK_SECRET, FakeRasa, rasa_says


def state_of(sessions: sessionmaker[Session], chat_id: int = CHAT_ID) -> ConversationState:
    with sessions() as s:
        conv = s.scalars(
            select(Conversation).where(
                Conversation.channel == "telegram",
                Conversation.address_hash == crypto.address_index("telegram", str(chat_id)),
            )
        ).one()
        return s.get_one(ConversationState, conv.id)


def test_text_gets_a_reply_with_an_inline_keyboard(
    client: TestClient, fake_telegram: FakeTelegram
) -> None:
    resp = post_update(client, tg_text("ciao"))
    assert resp.status_code == 200 and resp.json() == {"ok": True}
    [sent] = fake_telegram.named("sendMessage")
    assert sent.params["chat_id"] == str(CHAT_ID)
    assert "consenso" in sent.params["text"].lower() or "privacy" in sent.params["text"].lower()
    keyboard = sent.params["reply_markup"]["inline_keyboard"]
    assert [row[0]["callback_data"] for row in keyboard] == ["consent:yes", "consent:no"]
    assert all(len(row) == 1 for row in keyboard)


def test_button_tap_is_answered_and_becomes_the_payload(
    client: TestClient, fake_telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    post_update(client, tg_text("ciao"))
    tap = tg_callback("consent:yes")
    post_update(client, tap)
    [answer] = fake_telegram.named("answerCallbackQuery")
    assert answer.params["callback_query_id"] == tap["callback_query"]["id"]
    assert state_of(sessions).data["consent"] is True
    last = fake_telegram.named("sendMessage")[-1]
    assert any(
        b[0]["callback_data"].startswith("cat:")
        for b in last.params["reply_markup"]["inline_keyboard"]
    )


def test_redelivered_update_is_processed_once(
    client: TestClient,
    fake_telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    sessions: sessionmaker[Session],
) -> None:
    update = tg_text("ciao")
    assert post_update(client, update).status_code == 200
    assert post_update(client, update).status_code == 200  # Telegram retried: same update_id
    assert len(fake_telegram.named("sendMessage")) == 1
    assert fake_rasa.calls == 1
    with sessions() as s:
        assert s.scalars(select(InboundReceipt.external_id)).all() == [str(update["update_id"])]


def test_shared_location_becomes_the_nearest_comune(
    client: TestClient,
    fake_telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    sessions: sessionmaker[Session],
) -> None:
    fake_rasa.table["cerco un nido"] = rasa_says("bisogno_prima_infanzia")
    post_update(client, tg_text("cerco un nido"))
    post_update(client, tg_callback("consent:yes"))
    assert state_of(sessions).name == "ask_comune"
    post_update(client, tg_location(45.7560, 8.8990))  # in Venegono Superiore
    assert state_of(sessions).data["need"]["comune"] == "Venegono Superiore"


def test_far_location_makes_the_flow_ask_again(
    client: TestClient,
    fake_telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    sessions: sessionmaker[Session],
) -> None:
    fake_rasa.table["cerco un nido"] = rasa_says("bisogno_prima_infanzia")
    post_update(client, tg_text("cerco un nido"))
    post_update(client, tg_callback("consent:yes"))
    post_update(client, tg_location(45.4642, 9.1900))  # Milano
    assert state_of(sessions).data["need"]["comune"] is None
    last = fake_telegram.named("sendMessage")[-1]
    assert "comune" in last.params["text"].lower()
    assert any(
        r[0]["callback_data"] == "comune:Tradate"
        for r in last.params["reply_markup"]["inline_keyboard"]
    )


def test_media_get_a_polite_answer_and_are_stored_with_their_file_id(
    client: TestClient, fake_telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    post_update(client, tg_text("ciao"))
    post_update(client, tg_callback("consent:yes"))
    before = len(fake_telegram.named("sendMessage"))
    for update in (tg_voice(), tg_photo(), tg_sticker()):
        post_update(client, update)
    replies = fake_telegram.named("sendMessage")[before:]
    assert len(replies) == 3
    assert all("scritti" in r.params["text"] for r in replies)  # "leggo solo i messaggi scritti"
    from bot.db import conversation_repo as repo

    with sessions() as s:
        stored = [
            m.attachments
            for m in repo.transcript(s, channel="telegram", address=str(CHAT_ID))
            if m.attachments
        ]
    assert [a[0]["kind"] for a in stored] == ["voice", "photo", "sticker"]
    assert stored[1][0]["ref"] == "AgACAgQAAxkBAAIlarge"  # the largest photo size


def test_document_with_caption_is_read_as_text(
    client: TestClient, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    post_update(client, tg_document("ecco il mio ISEE"))
    assert fake_rasa.calls == 1  # the caption went to the NLU
    assert len(fake_telegram.named("sendMessage")) == 1


def test_group_chats_and_edits_are_ignored(client: TestClient, fake_telegram: FakeTelegram) -> None:
    group = tg_text("ciao a tutti", chat_id=-100123, chat_type="supergroup")
    edit = tg_text("ciao")
    edit["edited_message"] = edit.pop("message")
    for update in (group, edit):
        assert post_update(client, update).status_code == 200
    assert fake_telegram.named("sendMessage") == []


def test_commands_work_as_typed(
    client: TestClient, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    post_update(client, tg_text("/stop"))
    assert fake_rasa.calls == 0
    assert "non ti manderò" in fake_telegram.named("sendMessage")[0].params["text"].lower()


def test_wrong_secret_is_403_and_nothing_happens(
    client: TestClient, fake_telegram: FakeTelegram
) -> None:
    assert post_update(client, tg_text("ciao"), secret="wrong").status_code == 403
    resp = client.post("/webhooks/telegram", json=tg_text("ciao"))  # no header at all
    assert resp.status_code == 403
    assert fake_telegram.named("sendMessage") == []


def test_wrong_content_type_is_415(client: TestClient) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "text/plain"}
    resp = client.post("/webhooks/telegram", content=b'{"update_id": 1}', headers=headers)
    assert resp.status_code == 415


def test_oversized_body_is_413(client: TestClient) -> None:
    headers = {
        "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
        "Content-Type": "application/json",
    }
    body = b'{"update_id": 1, "pad": "' + b"x" * 1_100_000 + b'"}'
    assert client.post("/webhooks/telegram", content=body, headers=headers).status_code == 413


def test_a_refused_reply_is_logged_and_recorded_failed(
    client: TestClient, fake_telegram: FakeTelegram, sessions: sessionmaker[Session], caplog
) -> None:
    fake_telegram.fail_next["sendMessage"] = [
        (400, {"ok": False, "error_code": 400, "description": "Bad Request: something"})
    ]
    assert post_update(client, tg_text("ciao")).status_code == 200
    settle(client)
    failures = [r for r in caplog.records if "reply refused" in r.getMessage()]
    assert failures and str(CHAT_ID) not in failures[0].getMessage()
    with sessions() as s:
        rows = s.scalars(select(ReplyOutbox).order_by(ReplyOutbox.id)).all()
    assert (rows[0].status, rows[0].reason) == ("failed", "telegram_badrequest")
    assert all(r.status == "sent" for r in rows[1:])  # the next replies still go


def test_polling_mode_answers_without_a_webhook(
    channel_settings,
    sessions: sessionmaker[Session],
    fake_telegram: FakeTelegram,
    fake_rasa: FakeRasa,
) -> None:
    from bot.web.app import create_app
    from tests.channels.fakes import wait_for
    from tests.conftest import nlu_client

    fake_telegram.updates = [tg_text("ciao"), tg_callback("consent:yes")]
    app = create_app(channel_settings, nlu=nlu_client(fake_rasa), telegram_polling=True)
    with TestClient(app):
        wait_for(lambda: len(fake_telegram.named("sendMessage")) >= 3)
    assert fake_telegram.named("deleteWebhook") and fake_telegram.named("answerCallbackQuery")
    assert state_of(sessions).data["consent"] is True
