"""Long messages: the sentences that ask for something vote with the whole message."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from nlu.client import NluClient
from nlu.comuni import gazetteer
from nlu.long_messages import MAX_REQUESTS, request_sentences, vote
from nlu.types import ParseStatus
from territory.model import shipped_territory

STORY = (
    "Buongiorno, scrivo perché a gennaio rientro al lavoro dopo la maternità e il mio capo "
    "mi ha già detto che dovrò fare anche qualche pomeriggio in ufficio, mio marito lavora "
    "su turni. "
)
ASK = "Vorrei sapere se a Tradate c'è un nido con posti liberi per una bimba di dieci mesi."


def test_a_short_message_has_no_request_sentences() -> None:
    assert request_sentences("cerco un nido a tradate. grazie") == []


def test_a_long_story_that_asks_nothing_is_read_whole() -> None:
    assert request_sentences(STORY + "Mio marito lavora su turni, anche di notte.") == []
    assert request_sentences(STORY.replace(".", ",") + " mio marito lavora su turni") == []


def test_a_run_on_without_full_stops_is_cut_at_its_request_words() -> None:
    run_on = (
        "allora niente io lavoro in fabbrica tutto il giorno e mia moglie fa le notti in "
        "ospedale e volevo sapere se esiste un posto per il bimbo di due anni cioe un nido "
        "e poi quanto costa al mese"
    )
    assert request_sentences(run_on) == [
        "volevo sapere se esiste un posto per il bimbo di due anni cioe un nido e poi",
        "quanto costa al mese",
    ]


def test_the_request_is_found_after_the_story() -> None:
    assert request_sentences(STORY + ASK + " Grazie mille, buona giornata.") == [ASK]


def test_questions_count_as_requests_and_only_the_last_ones_are_kept() -> None:
    questions = [f"Domanda numero {n}?" for n in range(MAX_REQUESTS + 2)]
    assert request_sentences(STORY + " ".join(questions)) == questions[-MAX_REQUESTS:]


def test_vote_sums_confidence_and_keeps_the_clearest_reading() -> None:
    whole = [("smart_working", 0.6), ("bisogno_prima_infanzia", 0.3)]
    ask = [("bisogno_prima_infanzia", 0.9), ("smart_working", 0.05)]
    assert vote([whole, ask]) == [("bisogno_prima_infanzia", 0.9), ("smart_working", 0.6)]


def rasa_reply(text: str) -> dict[str, object]:
    reading = ("bisogno_prima_infanzia", 0.92) if "nido" in text else ("smart_working", 0.7)
    if text == STORY + ASK:
        reading = ("smart_working", 0.62)  # the story's words win on the whole letter
    ranking = [{"name": reading[0], "confidence": reading[1]}]
    return {"text": text, "intent": ranking[0], "entities": [], "intent_ranking": ranking}


@pytest.mark.parametrize("down_on_sentences", [False, True])
def test_client_reads_a_letter_by_its_request(down_on_sentences: bool) -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["text"]
        asked.append(text)
        if down_on_sentences and text != STORY + ASK:
            return httpx.Response(503)
        return httpx.Response(200, json=rasa_reply(text))

    async def go():
        transport = httpx.MockTransport(handler)
        places = gazetteer(shipped_territory("tradate"))
        async with NluClient("http://rasa.test", places=places, transport=transport) as c:
            return await c.parse(STORY + ASK)

    result = asyncio.run(go())
    assert ASK in asked
    if down_on_sentences:  # the sentences are extra: without them the whole reading stands
        assert (result.intent, result.status) == ("smart_working", ParseStatus.OK)
    else:
        assert (result.intent, result.confidence) == ("bisogno_prima_infanzia", 0.92)
        assert "Tradate" in result.values("comune")  # entities still from the whole text
