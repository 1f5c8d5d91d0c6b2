"""Logs at INFO and above never carry what residents wrote or their phone numbers."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FakeRasa, rasa_says

SESSION = "log-check-0001"
SAID = [
    "ciao",
    "cerco un nido a Tradate",
    "ha 2 anni",
    "voglio parlare con un operatore",
    "il mio numero è 333 1234567",
    "mio marito mi picchia",
    "cancella i miei dati",
]
PHONE = re.compile(r"(\+?39)?\s?3\d{2}\s?\d{6,7}")


def test_logs_hold_no_message_text_nor_phone_numbers(
    client: TestClient,
    fake_rasa: FakeRasa,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_rasa.table["cerco un nido a Tradate"] = rasa_says(
        "bisogno_prima_infanzia",
        entities=[{"entity": "comune", "value": "Tradate", "start": 16, "end": 23}],
    )
    fake_rasa.table["ha 2 anni"] = rasa_says(
        "fornisci_info", entities=[{"entity": "eta", "value": "2 anni", "start": 3, "end": 9}]
    )
    fake_rasa.table["voglio parlare con un operatore"] = rasa_says("richiesta_operatore")
    fake_rasa.table["cancella i miei dati"] = rasa_says("cancellazione_dati")
    caplog.set_level(logging.INFO)
    for text in SAID[:3]:
        client.post("/api/chat", json={"session": SESSION, "text": text})
    client.post("/api/chat", json={"session": SESSION, "payload": "consent:yes"})
    for text in SAID[3:]:
        client.post("/api/chat", json={"session": SESSION, "text": text})
    client.post("/api/chat", json={"session": SESSION, "payload": "yes"})
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any("message handled" in line for line in logged)  # the app did log
    everything = "\n".join(logged)
    for text in SAID[1:]:  # "ciao" is too short to be telling
        assert text not in everything, text
    assert not PHONE.search(everything), PHONE.search(everything)
    assert "picchia" not in everything and "Giulia" not in everything
