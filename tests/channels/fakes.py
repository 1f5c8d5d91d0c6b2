"""Fake Telegram Bot API and Twilio API servers: real HTTP on loopback, recording requests.

They answer like the real services (shapes from the Bot API and Twilio REST docs) so that
the real PTB `Bot` and the real twilio `Client` can be pointed at them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "twilio-auth-token-for-tests"
CONTENT_URL = "https://content.twilio.com/v1/Content"


class ServerThread:
    """Runs an ASGI app under uvicorn in a daemon thread on a free loopback port."""

    def __init__(self, app: Any, *, lifespan: str = "off") -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan=lifespan)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


@dataclass
class Call:
    """One request a fake server received."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakeTelegram:
    """The Bot API at /bot<token>/<method>; `fail_next` queues error answers per method."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.fail_next: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.updates: list[dict[str, Any]] = []  # served by getUpdates
        self.sent_per_chat: Counter[str] = Counter()  # sendMessage calls by chat_id
        self.stall_next = 0  # sendMessage calls that hang `stall_seconds` (client timeouts)
        self.stall_seconds = 2.0
        self.delivered: list[tuple[str, str]] = []  # (chat_id, text) of sendMessage answered ok
        self._ids = itertools.count(1000)
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self._handle, methods=["POST"])])

    def named(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def _handle(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        if request.path_params["token"] != TOKEN:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
            )
        params = {k: _maybe_json(v) for k, v in (await request.form()).items()}
        self.calls.append(Call(method, params))
        if queued := self.fail_next.get(method):
            status, body = queued.pop(0)
            return JSONResponse(body, status)
        if method == "sendMessage" and self.stall_next > 0:
            self.stall_next -= 1
            await asyncio.sleep(self.stall_seconds)  # the client has given up by now
            return JSONResponse({"ok": False, "error_code": 504, "description": "Timeout"}, 504)
        result = await self._result(method, params)
        if method == "sendMessage":
            self.delivered.append((str(params["chat_id"]), str(params["text"])))
        return JSONResponse({"ok": True, "result": result})

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": 123456,
                "is_bot": True,
                "first_name": "Front desk",
                "username": "frontdesk_test_bot",
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "sendMessage":
            self.sent_per_chat[str(params["chat_id"])] += 1
            return {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params["text"],
            }
        if method == "getUpdates":
            if not self.updates:
                await asyncio.sleep(0.05)  # a (very) short long poll
            served, self.updates = self.updates, []
            return served
        return True  # setWebhook, deleteWebhook, setMyCommands, answerCallbackQuery


def blocked_by_user() -> tuple[int, dict[str, Any]]:
    return 403, {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }


def retry_after(seconds: int) -> tuple[int, dict[str, Any]]:
    return 429, {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {seconds}",
        "parameters": {"retry_after": seconds},
    }


@dataclass(frozen=True)
class Shown:
    """An interactive message as the resident sees it (quick-reply buttons or a list)."""

    content_type: str
    text: str
    titles: tuple[str, ...]  # as displayed: button titles, list items
    full_titles: tuple[str, ...]  # a shortened item's description gives its whole title
    payloads: tuple[str, ...]  # what a tap sends back (ButtonPayload / ListId)


class FakeTwilio:
    """The Messages resource of the Twilio REST API (2010-04-01) and the Content API's
    create (content.twilio.com/v1/Content, same server: the SDK's client is rebased), with
    basic auth. Contents are checked against the limits of Twilio's Content API reference
    and refused (400) as Twilio would."""

    def __init__(self) -> None:
        self.calls: list[Call] = []  # Messages API requests
        self.fail_next: list[tuple[int, dict[str, Any]]] = []
        self.sids: list[str] = []  # MessageSids answered, in order
        self.content_calls: list[Call] = []  # Content API creates (JSON bodies)
        self.fail_content_next: list[tuple[int, dict[str, Any]]] = []
        self.contents: dict[str, dict[str, Any]] = {}  # created definitions by ContentSid
        self.deleted: set[str] = set()  # ContentSids "deleted in the Console"
        path = "/2010-04-01/Accounts/{sid}/Messages.json"
        self.app = Starlette(
            routes=[
                Route(path, self._create, methods=["POST"]),
                Route("/v1/Content", self._create_content, methods=["POST"]),
            ]
        )

    def reset(self) -> None:
        """Forgets every request and queued failure (the created contents too)."""
        for recorded in (self.calls, self.fail_next, self.sids, self.content_calls):
            recorded.clear()
        self.fail_content_next.clear()
        self.contents.clear()
        self.deleted.clear()

    def shown(self, params: dict[str, Any]) -> Shown | None:
        """What a Messages API request showed, when it sent a content created here; None
        for free text and for templates."""
        content = self.contents.get(params.get("ContentSid", ""))
        if content is None:
            return None
        ((kind, body),) = content["types"].items()
        text = _render(body["body"], json.loads(params.get("ContentVariables") or "{}"))
        if kind == "twilio/quick-reply":
            titles = tuple(a["title"] for a in body["actions"])
            return Shown(kind, text, titles, titles, tuple(a["id"] for a in body["actions"]))
        items = body["items"]
        return Shown(
            kind,
            text,
            tuple(i["item"] for i in items),
            tuple(i.get("description") or i["item"] for i in items),
            tuple(i["id"] for i in items),
        )

    async def _create_content(self, request: Request) -> JSONResponse:
        if not _basic_auth_ok(request):
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)
        body = await request.json()
        self.content_calls.append(Call("content.create", body))
        if self.fail_content_next:
            status, answer = self.fail_content_next.pop(0)
            return JSONResponse(answer, status)
        if (problem := _content_problem(body)) is not None:
            return JSONResponse(twilio_error(21658, problem)[1], 400)
        sid = "HX" + secrets.token_hex(16)
        self.contents[sid] = body
        return JSONResponse(
            {
                "sid": sid,
                "account_sid": ACCOUNT_SID,
                "friendly_name": body.get("friendly_name", ""),
                "language": body["language"],
                "variables": body.get("variables", {}),
                "types": body["types"],
                "url": f"{CONTENT_URL}/{sid}",
                "date_created": "2026-12-02T12:00:00Z",
                "date_updated": "2026-12-02T12:00:00Z",
                "links": {"approval_fetch": f"{CONTENT_URL}/{sid}/ApprovalRequests"},
            },
            201,
        )

    async def _create(self, request: Request) -> JSONResponse:
        if request.path_params["sid"] != ACCOUNT_SID or not _basic_auth_ok(request):
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)
        params = dict((await request.form()).items())
        self.calls.append(Call("messages.create", params))
        if self.fail_next:
            status, body = self.fail_next.pop(0)
            return JSONResponse(body, status)
        refusal = None
        if params.get("ContentSid") in self.deleted:
            refusal = twilio_error(21655, "The ContentSid is Invalid")
        elif "ContentVariables" in params and not _variables_ok(params["ContentVariables"]):
            refusal = twilio_error(21656, "The ContentVariables parameter is invalid")
        if refusal is not None:
            return JSONResponse(refusal[1], refusal[0])
        sid = "SM" + secrets.token_hex(16)
        self.sids.append(sid)
        return JSONResponse(
            {
                "sid": sid,
                "account_sid": ACCOUNT_SID,
                "status": "queued",
                "to": params["To"],
                "from": params["From"],
                "body": params.get("Body", ""),
                "num_media": "0",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "error_code": None,
                "error_message": None,
                "price": None,
                "price_unit": "USD",
                "date_created": "Mon, 23 Nov 2026 12:00:00 +0000",
                "date_sent": None,
                "date_updated": "Mon, 23 Nov 2026 12:00:00 +0000",
                "messaging_service_sid": None,
                "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
                "subresource_uris": {},
            },
            201,
        )


def twilio_error(code: int, message: str) -> tuple[int, dict[str, Any]]:
    return 400, {
        "code": code,
        "message": message,
        "status": 400,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
    }


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _content_problem(body: dict[str, Any]) -> str | None:
    """Why Twilio would refuse this content (limits of its Content API reference)."""
    types = body.get("types")
    if body.get("language") is None or not isinstance(types, dict) or len(types) != 1:
        return "language and one content type required"
    ((kind, spec),) = types.items()
    text = spec.get("body")
    if not isinstance(text, str) or not text or _units(text) > 1024:
        return "body: 1 to 1024 characters"
    if kind == "twilio/quick-reply":
        actions = spec.get("actions") or []
        if not 1 <= len(actions) <= 3:  # in session, without approval
            return "1 to 3 quick replies"
        titles = [a.get("title") or "" for a in actions]
        if any(not t or _units(t) > 20 for t in titles) or len(set(titles)) < len(titles):
            return "quick reply titles: unique, 1 to 20 characters"
        ids = [a.get("id") or "" for a in actions]
    elif kind == "twilio/list-picker":
        items = spec.get("items") or []
        button = spec.get("button") or ""
        if not button or _units(button) > 20 or not 1 <= len(items) <= 10:
            return "button 1 to 20 characters, 1 to 10 items"
        for item in items:
            if not item.get("item") or _units(item["item"]) > 24:
                return "item: 1 to 24 characters"
            if _units(item.get("description", "")) > 72:
                return "description: at most 72 characters"
        ids = [i.get("id") or "" for i in items]
    else:
        return f"unsupported type {kind}"
    if any(not i or _units(i) > 200 for i in ids) or len(set(ids)) < len(ids):
        return "ids: unique, 1 to 200 characters"
    return None


def _variables_ok(raw: str) -> bool:
    try:
        values = json.loads(raw)
    except ValueError:
        return False
    return isinstance(values, dict) and all(
        isinstance(v, str) and _units(v) <= 1600 for v in values.values()
    )


def _render(text: str, variables: dict[str, str]) -> str:
    for key, value in variables.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def _basic_auth_ok(request: Request) -> bool:
    import base64

    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    return request.headers.get("authorization") == f"Basic {expected}"


def _maybe_json(value: Any) -> Any:
    # PTB form-encodes parameters, with objects (reply_markup, commands) as JSON strings.
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Polls until `predicate()` holds (the app answers in background tasks)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
