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
        return JSONResponse({"ok": True, "result": await self._result(method, params)})

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


class FakeTwilio:
    """The Messages resource of the Twilio REST API (2010-04-01), with basic auth."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.fail_next: list[tuple[int, dict[str, Any]]] = []
        self.sids: list[str] = []  # MessageSids answered, in order
        path = "/2010-04-01/Accounts/{sid}/Messages.json"
        self.app = Starlette(routes=[Route(path, self._create, methods=["POST"])])

    async def _create(self, request: Request) -> JSONResponse:
        if request.path_params["sid"] != ACCOUNT_SID or not _basic_auth_ok(request):
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)
        params = dict((await request.form()).items())
        self.calls.append(Call("messages.create", params))
        if self.fail_next:
            status, body = self.fail_next.pop(0)
            return JSONResponse(body, status)
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
