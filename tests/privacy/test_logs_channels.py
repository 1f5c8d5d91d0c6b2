"""Logs of the WhatsApp and Telegram paths carry neither texts, numbers nor names."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from bot.settings import Settings
from tests.channels.conftest import post_twilio, post_update
from tests.channels.payloads import CHAT_ID, SENDER, tg_text, wa_form


@pytest.fixture
def app_settings(channel_settings: Settings) -> Settings:
    return channel_settings


SAID = ("mia madre ha 82 anni e vive a Gornate", "chiamatemi al 3339876543")


def test_whatsapp_and_telegram_logs_hold_no_personal_data(
    client: TestClient,
    fake_twilio: object,
    fake_telegram: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    post_twilio(client, "/webhooks/whatsapp", wa_form("ciao"))
    post_twilio(client, "/webhooks/whatsapp", wa_form("1"))  # consent
    for text in SAID:
        post_twilio(client, "/webhooks/whatsapp", wa_form(text))
        post_update(client, tg_text(text))
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "message handled channel=whatsapp" in logged
    assert "message handled channel=telegram" in logged
    secrets = (*SAID, SENDER, SENDER.removeprefix("whatsapp:"), "3331234567", str(CHAT_ID))
    for secret in (*secrets, "Giulia"):
        assert secret not in logged, secret
