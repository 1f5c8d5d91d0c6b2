"""Inbound throughput and latency of the Telegram webhook, end to end.

Three processes on loopback, real HTTP: the app (uvicorn), the fakes (a Rasa answering a
fixed parse and the Bot API fake of the tests) and this driver. Each update comes from a
new resident, so it gets exactly one reply; end-to-end latency runs from the webhook POST
to the sendMessage arriving at the fake Telegram (webhook -> NLU -> flow -> DB -> send).
Separate processes matter: servers in threads of one process add ~45 ms per request (GIL).

    .venv/bin/python bench/bench_webhooks.py [--n 400] [--concurrency 16] [--database-url URL]

Prints one JSON object (milliseconds; messages per second).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fakes live with the tests

from bot.cli.seed import seed_catalog_if_empty  # noqa: E402
from bot.db.engine import create_db_engine, session_factory  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.settings import load_config, load_settings  # noqa: E402
from tests.channels.fakes import TOKEN, FakeTelegram  # noqa: E402
from tests.channels.payloads import tg_callback, tg_text  # noqa: E402

SECRET = "bench-secret"
PARSE = {
    "text": "",
    "intent": {"name": "bisogno_prima_infanzia", "confidence": 0.93},
    "entities": [],
    "intent_ranking": [{"name": "bisogno_prima_infanzia", "confidence": 0.93}],
}


def fakes_app() -> Starlette:
    """Fake Rasa at /rasa, fake Bot API at /telegram, first reply time per chat at /sent."""
    telegram = FakeTelegram()

    async def parse(request: Request) -> JSONResponse:
        return JSONResponse(PARSE | {"text": (await request.json())["text"]})

    async def status(_request: Request) -> JSONResponse:
        return JSONResponse({"model_file": "bench.tar.gz"})

    async def sent(_request: Request) -> JSONResponse:
        first: dict[str, float] = {}
        for call in telegram.named("sendMessage"):
            first.setdefault(str(call.params["chat_id"]), call.at)
        return JSONResponse(first)

    rasa = Starlette(
        routes=[Route("/model/parse", parse, methods=["POST"]), Route("/status", status)]
    )
    return Starlette(
        routes=[Mount("/rasa", rasa), Mount("/telegram", telegram.app), Route("/sent", sent)]
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 2)


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "mean": round(statistics.fmean(values), 2),
        "max": round(max(values), 2),
    }


async def drive(app_url: str, fakes_url: str, n: int, concurrency: int) -> dict[str, Any]:
    ack: list[float] = []
    posted: dict[str, float] = {}  # chat -> time.monotonic() (system-wide on Linux)
    next_chat = iter(range(10_000_000, 10_000_000 + n))
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def worker(client: httpx.AsyncClient) -> None:
        for chat in next_chat:
            # One in five is a button tap (no NLU, but an answerCallbackQuery).
            update = (
                tg_callback("consent:yes", chat)
                if chat % 5 == 0
                else tg_text("cerco un nido", chat)
            )
            t0 = posted[str(chat)] = time.monotonic()
            resp = await client.post("/webhooks/telegram", json=update, headers=headers)
            ack.append((time.monotonic() - t0) * 1000)
            resp.raise_for_status()

    start = time.monotonic()
    async with httpx.AsyncClient(base_url=app_url, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    async with httpx.AsyncClient(base_url=fakes_url, timeout=30) as fakes:
        while len(replied := (await fakes.get("/sent")).json()) < n:
            await asyncio.sleep(0.05)
    elapsed = max(replied.values()) - start
    e2e = [(replied[chat] - t0) * 1000 for chat, t0 in posted.items()]
    return {
        "throughput_msgs_per_s": round(n / elapsed, 1),
        "ack_ms": summary(ack),
        "end_to_end_ms": summary(e2e),
    }


def prepare(url: str, tmp: Path, *, telegram_rate: int | None = None) -> None:
    """Migrates and seeds the database; writes tmp/config.yml with the Telegram channel on
    (and Telegram's overall send rate set to `telegram_rate`, if given)."""
    upgrade(url)
    engine = create_db_engine(url)
    config = load_config(ROOT / "config.yml")
    seed_catalog_if_empty(session_factory(engine), ROOT / config.catalog.seed_dir)
    engine.dispose()
    raw = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    raw["channels"] = {"enabled": ["webchat", "telegram"]}
    if telegram_rate is not None:
        raw["telegram"]["overall_rate"] = telegram_rate
    (tmp / "config.yml").write_text(yaml.safe_dump(raw), encoding="utf-8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"error: {url} did not start")


def serve(which: str, port: int) -> None:
    """Child process: the fakes, or the app configured from the environment."""
    if which == "fakes":
        app: Any = fakes_app()
    else:
        from bot.web.app import create_app

        app = create_app(load_settings())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--serve", choices=["fakes", "app"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        prepare(url, Path(tmp))

        fakes_port, app_port = free_port(), free_port()
        fakes_url, app_url = f"http://127.0.0.1:{fakes_port}", f"http://127.0.0.1:{app_port}"
        env = os.environ | {
            "DATABASE_URL": url,
            "FRONTDESK_CONFIG": f"{tmp}/config.yml",
            "RASA_URL": f"{fakes_url}/rasa",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_BASE_URL": f"{fakes_url}/telegram/bot",
        }
        me = [sys.executable, str(Path(__file__).resolve())]
        children = [
            subprocess.Popen([*me, "--serve", "fakes", "--port", str(fakes_port)], env=env),
            subprocess.Popen([*me, "--serve", "app", "--port", str(app_port)], env=env),
        ]
        try:
            wait_ready(f"{fakes_url}/rasa/status")
            wait_ready(f"{app_url}/healthz")
            result = asyncio.run(drive(app_url, fakes_url, args.n, args.concurrency))
        finally:
            for child in children:
                child.terminate()
                child.wait(timeout=30)
    backend = url.split(":", 1)[0].split("+")[0]
    print(
        json.dumps(
            {"messages": args.n, "concurrency": args.concurrency, "database": backend, **result}
        )
    )


if __name__ == "__main__":
    main()
