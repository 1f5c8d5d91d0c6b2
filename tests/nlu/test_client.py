"""The NLU client against httpx.MockTransport: every failure is an explicit outcome."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from nlu.client import NluClient
from nlu.comuni import gazetteer
from nlu.types import ParseStatus
from territory.model import shipped_territory

TRADATE = gazetteer(shipped_territory("tradate"))  # how its residents name places


def rasa_body(intent: str, confidence: float, entities: list[dict[str, object]] | None = None):
    return {
        "text": "x",
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }


def client_with(handler, **kwargs) -> NluClient:
    return NluClient(
        "http://rasa.test", places=TRADATE, transport=httpx.MockTransport(handler), **kwargs
    )


def parse(client: NluClient, text: str):
    async def go():
        async with client:
            return await client.parse(text)

    return asyncio.run(go())


def test_confident_parse_with_normalised_entities() -> None:
    seen: list[httpx.Request] = []
    text = "cerco un nido a tradà per mio figlio di 18 mesi"

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        start = text.index("tradà")
        ents = [{"entity": "comune", "value": "tradà", "start": start, "end": start + 5}]
        return httpx.Response(200, json=rasa_body("bisogno_prima_infanzia", 0.93, ents))

    result = parse(client_with(handler, token="tok"), text)
    assert result.status is ParseStatus.OK
    assert result.intent == "bisogno_prima_infanzia"
    assert "Tradate" in result.values("comune")
    assert 1.5 in result.values("eta")
    assert seen[0].url.params["token"] == "tok"
    assert json.loads(seen[0].content) == {"text": text}


def test_low_confidence_is_explicit() -> None:
    result = parse(client_with(lambda r: httpx.Response(200, json=rasa_body("saluto", 0.2))), "boh")
    assert result.status is ParseStatus.LOW_CONFIDENCE
    assert result.intent == "saluto"


def test_server_errors_are_retried_then_succeed() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] < 3:
            return httpx.Response(503)
        return httpx.Response(200, json=rasa_body("saluto", 0.99))

    result = parse(client_with(handler, retries=2), "ciao")
    assert calls["n"] == 3
    assert result.status is ParseStatus.OK


@pytest.mark.parametrize(
    "handler",
    [
        lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused")),
        lambda r: httpx.Response(500),
        lambda r: httpx.Response(200, content=b"<html>not json</html>"),
        lambda r: httpx.Response(200, json={"intent": "not-an-object"}),
        lambda r: httpx.Response(401, json={"message": "bad token"}),
    ],
    ids=["refused", "500", "not-json", "wrong-shape", "unauthorised"],
)
def test_unreachable_or_garbage_is_unavailable_never_an_exception(handler) -> None:
    result = parse(client_with(handler, retries=1), "cerco un nido a Tradate")
    assert result.status is ParseStatus.UNAVAILABLE
    assert result.intent is None
    assert "Tradate" in result.values("comune")  # deterministic extraction still helps


def test_safety_net_overrides_the_model() -> None:
    handler = lambda r: httpx.Response(200, json=rasa_body("fuori_ambito", 0.9))  # noqa: E731
    result = parse(client_with(handler), "mio marito mi picchia")
    assert result.intent == "emergenza"
    assert result.status is ParseStatus.OK


def test_safety_net_works_when_rasa_is_down() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    result = parse(client_with(handler, retries=0), "non voglio piu vivere")
    assert result.intent == "emergenza"


def test_to_json_has_the_public_shape() -> None:
    text = "mio figlio ha 3 anni"
    start = text.index("3 anni")
    ents = [{"entity": "eta", "value": "3 anni", "start": start, "end": start + 6}]
    handler = lambda r: httpx.Response(200, json=rasa_body("fornisci_info", 0.8, ents))  # noqa: E731
    out = parse(client_with(handler), text).to_json()
    assert set(out) == {"text", "intent", "confidence", "entities"}
    assert {"entity": "eta", "value": 3} in out["entities"]
    assert all(set(e) == {"entity", "value"} for e in out["entities"])
