"""Hypothesis throws garbage at both webhooks: never a 5xx, never an exception, a log line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.channels.conftest import settle
from tests.channels.payloads import tg_callback, tg_location, tg_text, twilio_signature, wa_form
from tests.conftest import PUBLIC_BASE_URL, WEBHOOK_SECRET

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def _mutated(base: dict[str, Any], draw_path: list[str], value: Any) -> dict[str, Any]:
    """`base` with the value at a path replaced (or a key deleted when value is ...)."""
    out = json.loads(json.dumps(base))
    node = out
    for key in draw_path[:-1]:
        if not isinstance(node.get(key), dict):
            return out
        node = node[key]
    if value is ...:
        node.pop(draw_path[-1], None)
    else:
        node[draw_path[-1]] = value
    return out


TG_PATHS = [
    ["update_id"],
    ["message"],
    ["message", "text"],
    ["message", "chat"],
    ["message", "chat", "id"],
    ["message", "chat", "type"],
    ["message", "date"],
    ["message", "location"],
    ["callback_query"],
    ["callback_query", "data"],
    ["callback_query", "message"],
    ["callback_query", "from"],
]
telegram_bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(
        _mutated,
        st.sampled_from([tg_text("ciao"), tg_callback("consent:yes"), tg_location(45.7, 8.9)]),
        st.sampled_from(TG_PATHS),
        json_values | st.just(...),
    ).map(lambda d: json.dumps(d).encode()),
    st.text(max_size=200).map(lambda t: json.dumps(tg_text(t)).encode()),
    st.integers(1, 40).map(lambda n: b"[" * n * 100),  # deep nesting
)

form_keys = st.sampled_from(
    [
        "From",
        "Body",
        "MessageSid",
        "NumMedia",
        "MediaUrl0",
        "MediaContentType0",
        "ButtonPayload",
        "Latitude",
        "Longitude",
        "WaId",
        "ProfileName",
        "MessageStatus",
        "ErrorCode",
    ]
)
twilio_forms = st.one_of(
    st.dictionaries(form_keys | st.text(max_size=10), st.text(max_size=60), max_size=10),
    st.builds(
        lambda extra: wa_form("ciao") | extra,
        st.dictionaries(form_keys, st.text(max_size=40), max_size=5),
    ),
)


@pytest.fixture
def fuzz_client(client: TestClient, caplog: pytest.LogCaptureFixture) -> Iterator[TestClient]:
    caplog.set_level(logging.INFO)
    yield client


def _check(resp_status: int, caplog: pytest.LogCaptureFixture, client: TestClient) -> None:
    settle(client)
    assert resp_status < 500
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    assert messages, "every request leaves a log line"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "no unhandled error"
    caplog.clear()


@FUZZ
@given(body=telegram_bodies)
def test_telegram_webhook_survives_garbage(
    fuzz_client: TestClient, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    headers = {
        "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
        "Content-Type": "application/json",
    }
    resp = fuzz_client.post("/webhooks/telegram", content=body, headers=headers)
    _check(resp.status_code, caplog, fuzz_client)


@FUZZ
@given(form=twilio_forms, path=st.sampled_from(["/webhooks/whatsapp", "/webhooks/whatsapp/status"]))
def test_whatsapp_webhooks_survive_garbage(
    fuzz_client: TestClient, caplog: pytest.LogCaptureFixture, form: dict[str, str], path: str
) -> None:
    signature = twilio_signature(PUBLIC_BASE_URL + path, form)
    resp = fuzz_client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    _check(resp.status_code, caplog, fuzz_client)


@FUZZ
@given(
    body=st.binary(max_size=400),
    content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "application/json", "text/plain", ""]
    ),
)
def test_whatsapp_webhook_survives_raw_bytes(
    fuzz_client: TestClient, caplog: pytest.LogCaptureFixture, body: bytes, content_type: str
) -> None:
    headers = {"Content-Type": content_type, "X-Twilio-Signature": "x"}
    resp = fuzz_client.post("/webhooks/whatsapp", content=body, headers=headers)
    _check(resp.status_code, caplog, fuzz_client)
    assert resp.status_code in {400, 403, 415}


def test_huge_bodies_are_413_on_both(fuzz_client: TestClient) -> None:
    big = b"a=" + b"x" * 1_500_000
    form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert (
        fuzz_client.post("/webhooks/whatsapp", content=big, headers=form_headers).status_code == 413
    )
    tg_headers = {
        "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
        "Content-Type": "application/json",
    }
    chunks = (b"x" * 65_536 for _ in range(20))  # no Content-Length: streamed and cut
    resp = fuzz_client.post("/webhooks/telegram", content=chunks, headers=tg_headers)
    assert resp.status_code == 413
