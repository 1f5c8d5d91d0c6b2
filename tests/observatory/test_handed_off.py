"""A handoff after the suggestions (a later turn) marks the anonymous need event."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.conversation_repo import LINK_KEY
from bot.db.models import ConversationState, Handoff, NeedEvent
from tests.conftest import FakeRasa, rasa_says
from tests.console.conftest import at_fixed_time

SESSION = "observatory-0001"


def test_handoff_in_a_later_turn_counts_on_the_need(
    client: TestClient,
    fake_rasa: FakeRasa,
    sessions: sessionmaker[Session],
) -> None:
    at_fixed_time(client)  # Social Points open: the handoff goes straight to the queue
    fake_rasa.table["cerco un nido a Tradate"] = rasa_says(
        "bisogno_prima_infanzia",
        entities=[{"entity": "comune", "value": "Tradate", "start": 16, "end": 23}],
    )
    fake_rasa.table["ha 2 anni"] = rasa_says(
        "fornisci_info", entities=[{"entity": "eta", "value": "2 anni", "start": 3, "end": 9}]
    )
    fake_rasa.table["voglio parlare con un operatore"] = rasa_says("richiesta_operatore")
    for body in (
        {"text": "cerco un nido a Tradate"},
        {"payload": "consent:yes"},
        {"text": "ha 2 anni"},
    ):
        client.post("/api/chat", json={"session": SESSION, **body})
    with sessions() as s:
        event = s.scalars(select(NeedEvent)).one()
        assert not event.handed_off
        assert s.scalars(select(ConversationState)).one().data[LINK_KEY] == event.id
    client.post("/api/chat", json={"session": SESSION, "text": "voglio parlare con un operatore"})
    with sessions() as s:
        assert s.scalars(select(Handoff)).one()
        assert s.scalars(select(NeedEvent)).one().handed_off
        assert LINK_KEY not in s.scalars(select(ConversationState)).one().data  # used once
