"""Twilio form fields -> InboundMessage / StatusReport (no network)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.base import Attachment
from bot.channels.whatsapp import WhatsApp
from territory.model import shipped_territory
from tests.channels.payloads import (
    SENDER,
    wa_button,
    wa_form,
    wa_list_reply,
    wa_location,
    wa_media,
    wa_status,
)


def parse(form: Any) -> Any:
    channel = object.__new__(WhatsApp)  # parse needs no client, only the places
    channel._centroids = shipped_territory("tradate").centroids
    return channel.parse(form)


def test_text_and_button() -> None:
    form = wa_form("  cerco un nido  ")
    message = parse(form)
    assert (message.channel, message.address, message.text) == ("whatsapp", SENDER, "cerco un nido")
    assert message.external_id == form["MessageSid"]
    button = parse(wa_button("consent:yes", "Sì"))
    assert (button.payload, button.text) == ("consent:yes", "Sì")


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        ("image/jpeg", "photo"),
        ("image/webp", "sticker"),
        ("audio/ogg", "voice"),
        ("video/mp4", "video"),
        ("application/pdf", "document"),
    ],
)
def test_media_kinds(content_type: str, kind: str) -> None:
    message = parse(wa_media(content_type))
    assert message.text is None
    assert message.attachments == (Attachment(kind, wa_media(content_type)["MediaUrl0"]),)


def test_location_near_and_far() -> None:
    assert parse(wa_location(45.7243, 8.8612)).payload == "comune:Castelseprio"
    far = parse(wa_location(45.0703, 7.6869))  # Torino
    assert far is not None and (far.payload, far.text) == ("location:far", None)


@pytest.mark.parametrize(
    "form",
    [
        wa_form("ciao", sender="+393331234567"),
        wa_form("ciao", MessageSid="nope"),
        wa_form(""),
        wa_form("", NumMedia="x"),
        wa_form("", NumMedia="1", MediaUrl0="ftp://x"),
        {"From": ["whatsapp:+39333"]},
        None,
        "From=whatsapp:+39333",
    ],
)
def test_unusable_forms_are_none(form: Any) -> None:
    assert parse(form) is None


def test_status_reports() -> None:
    report = WhatsApp.parse_status(wa_status("SM" + "1" * 32, "undelivered", error_code="63016"))
    assert report is not None and report.status == "undelivered" and report.error_code == 63016
    assert report.recipient_gone
    ok = WhatsApp.parse_status(wa_status("SM" + "2" * 32, "delivered"))
    assert ok is not None and not ok.recipient_gone and ok.error_code is None
    assert WhatsApp.parse_status(wa_status("SM" + "3" * 32, "exploded")) is None
    assert WhatsApp.parse_status(wa_status("bad", "sent")) is None


def test_a_picked_list_item_is_its_payload_and_title() -> None:
    picked = parse(wa_list_reply("cat:benessere", "Sostegno psicologico…"))
    assert (picked.payload, picked.text) == ("cat:benessere", "Sostegno psicologico…")
    tapped = parse(wa_form("Sì", ButtonPayload="consent:yes", ButtonText="Sì, va bene"))
    assert (tapped.payload, tapped.text) == ("consent:yes", "Sì, va bene")
    typed = parse(wa_form("Pre e post scuola"))
    assert (typed.payload, typed.text) == (None, "Pre e post scuola")
