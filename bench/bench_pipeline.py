"""What the front desk adds to the NLU: raw Rasa parse and the whole path, side by side.

One run, one real Rasa server with the trained model, the same resident texts (the
project's own held-out set). Raw: POST /model/parse straight to Rasa. Whole path: the
Telegram webhook -> durable inbox -> turn lease -> NLU -> flow -> reply outbox ->
sendMessage on a fake Bot API, timed from the POST to the first sendMessage of that
resident (each text comes from a new resident, so each gets its own turn). Every process
is separate (app under uvicorn, fakes, Rasa, this driver): one process would add the GIL.

    .venv/bin/python bench/bench_pipeline.py [--n 200] [--serial 100]
        [--database-url URL] [--workers 2] [--profile FILE.svg]

`--database-url postgresql+psycopg://...` creates (and drops) its own database on that
server; `--workers N` (PostgreSQL) runs `frontdesk run --workers N`. `--profile` samples
the app with py-spy during the 8-in-flight run. Prints one JSON object: milliseconds,
messages per second, app CPU seconds per message (all its processes), peak RSS in MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fakes live with the tests

from bench.bench_webhooks import free_port, prepare, summary, wait_ready  # noqa: E402
from bot.settings import load_config  # noqa: E402
from nlu.rasa_process import RasaServer, model_path  # noqa: E402
from tests.channels.fakes import TOKEN, FakeTelegram  # noqa: E402
from tests.channels.payloads import tg_text  # noqa: E402

SECRET = "bench-secret"
IN_FLIGHT = (1, 8, 32)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def resident_texts() -> list[str]:
    """The project's own held-out messages (never the external test set)."""
    data = yaml.safe_load((ROOT / "nlu" / "heldout" / "test.yml").read_text(encoding="utf-8"))
    texts = [
        line[2:].strip()
        for block in data["nlu"]
        for line in block["examples"].splitlines()
        if line.startswith("- ")
    ]
    return [t for t in texts if "[" not in t]  # entity markup would need stripping


# -- the fake Bot API, telling the driver when a resident's first reply arrived -------------


def fakes_app() -> Any:
    telegram = FakeTelegram()
    first: dict[str, float] = {}
    arrived: dict[str, asyncio.Event] = {}
    seen = 0

    async def api(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal seen
        await telegram.app(scope, receive, send)
        for call in telegram.calls[seen:]:
            if call.method == "sendMessage":
                chat = str(call.params["chat_id"])
                if chat not in first:
                    first[chat] = call.at
                    arrived.setdefault(chat, asyncio.Event()).set()
        seen = len(telegram.calls)

    async def wait(request: Request) -> JSONResponse:
        chat = request.path_params["chat"]
        event = arrived.setdefault(chat, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), timeout=60)
        except TimeoutError:
            return JSONResponse({"error": "no reply"}, status_code=504)
        return JSONResponse({"at": first[chat]})

    async def count(_request: Request) -> JSONResponse:
        return JSONResponse({"sendMessage": len(telegram.named("sendMessage"))})

    return Starlette(
        routes=[
            Mount("/telegram", api),
            Route("/wait/{chat}", wait),
            Route("/count", count),
        ]
    )


# -- processes -------------------------------------------------------------------------------


def tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn's workers are children of the supervisor)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return round(total / 1024, 1)


@contextmanager
def database(url: str | None, tmp: str) -> Iterator[str]:
    """A fresh database: a temporary SQLite file, or a new database on the given server."""
    if url is None:
        yield f"sqlite:///{tmp}/bench.db"
        return
    server = make_url(url)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def serve_fakes(port: int) -> None:
    uvicorn.run(fakes_app(), host="127.0.0.1", port=port, log_level="warning")


# -- the driver ------------------------------------------------------------------------------


async def run_in_flight(
    n: int, in_flight: int, one: Callable[[int], Awaitable[float]]
) -> tuple[float, list[float]]:
    """Runs `one(i)` for i < n with `in_flight` at a time; (throughput, latencies in ms)."""
    items = iter(range(n))
    latencies: list[float] = []

    async def worker() -> None:
        for i in items:
            latencies.append(await one(i))

    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return n / (time.monotonic() - start), latencies


async def measure(args: argparse.Namespace, urls: dict[str, str], pids: dict[str, int]) -> Any:
    texts = resident_texts()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    limits = httpx.Limits(max_connections=64)
    rasa = httpx.AsyncClient(base_url=urls["rasa"], timeout=60, limits=limits)
    app = httpx.AsyncClient(base_url=urls["app"], timeout=60, limits=limits)
    fakes = httpx.AsyncClient(base_url=urls["fakes"], timeout=90, limits=limits)
    chats = iter(range(20_000_000, 30_000_000))

    async def parse(i: int) -> float:
        t0 = time.monotonic()
        resp = await rasa.post(
            "/model/parse", params={"token": urls["token"]}, json={"text": texts[i % len(texts)]}
        )
        resp.raise_for_status()
        return (time.monotonic() - t0) * 1000

    async def message(i: int) -> float:
        chat = next(chats)
        t0 = time.monotonic()
        waiting = asyncio.create_task(fakes.get(f"/wait/{chat}"))
        resp = await app.post(
            "/webhooks/telegram", json=tg_text(texts[i % len(texts)], chat), headers=headers
        )
        resp.raise_for_status()
        reply = await waiting
        reply.raise_for_status()
        return (reply.json()["at"] - t0) * 1000

    async def side(name: str, one: Callable[[int], Awaitable[float]], pid: int) -> dict[str, Any]:
        await run_in_flight(20, 4, one)  # warm-up: connections, caches, the model's first calls
        out: dict[str, Any] = {}
        _, serial = await run_in_flight(args.serial, 1, one)
        out["serial_ms"] = summary(serial)
        for k in IN_FLIGHT:
            cpu0 = cpu_seconds(pid)
            profiler = start_profiler(args, pids["app"]) if name == "pipeline" and k == 8 else None
            rate, _ = await run_in_flight(args.n, k, one)
            stop_profiler(profiler)
            out[f"in_flight_{k}"] = {
                "msgs_per_s": round(rate, 1),
                "cpu_s_per_msg": round((cpu_seconds(pid) - cpu0) / args.n, 4),
            }
        out["peak_rss_mb"] = peak_rss_mb(pid)
        return out

    try:
        raw = await side("raw", parse, pids["rasa"])
        before = (await fakes.get("/count")).json()["sendMessage"]
        pipeline = await side("pipeline", message, pids["app"])
        sent = (await fakes.get("/count")).json()["sendMessage"] - before
    finally:
        await asyncio.gather(rasa.aclose(), app.aclose(), fakes.aclose())
    residents = 20 + args.serial + args.n * len(IN_FLIGHT)
    added = {
        "serial_p50_ms": round(pipeline["serial_ms"]["p50"] - raw["serial_ms"]["p50"], 1),
        "serial_p95_ms": round(pipeline["serial_ms"]["p95"] - raw["serial_ms"]["p95"], 1),
    }
    ratio = {
        f"in_flight_{k}": round(
            pipeline[f"in_flight_{k}"]["msgs_per_s"] / raw[f"in_flight_{k}"]["msgs_per_s"], 2
        )
        for k in IN_FLIGHT
    }
    return {
        "raw_parse": raw,
        "pipeline": pipeline | {"replies_per_message": round(sent / residents, 2)},
        "added_latency": added,
        "throughput_ratio": ratio,
    }


def start_profiler(args: argparse.Namespace, pid: int) -> subprocess.Popen[bytes] | None:
    if not args.profile:
        return None
    spy = Path(sys.executable).with_name("py-spy")
    cmd = [str(spy), "record", "--pid", str(pid), "--subprocesses", "--rate", "200"]
    cmd += ["--output", args.profile, "--nonblocking"]
    if args.profile.endswith(".txt"):
        cmd += ["--format", "raw"]
    if args.profile_gil:
        cmd += ["--gil"]  # only the thread holding the GIL: where Python spends CPU
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches
    return proc


def stop_profiler(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None:
        proc.send_signal(2)  # SIGINT: py-spy writes its output
        proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="messages per in-flight level")
    parser.add_argument("--serial", type=int, default=100, help="messages timed one at a time")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--workers", type=int, default=1, help="app worker processes")
    parser.add_argument(
        "--telegram-rate",
        type=int,
        default=None,
        help="Telegram's overall sends per second (default: config.yml's 30, Telegram's own "
        "limit; the fake Bot API has none, so a higher rate measures the front desk alone)",
    )
    parser.add_argument("--profile", default=None, help="py-spy output (.svg, .txt = raw)")
    parser.add_argument("--profile-gil", action="store_true", help="profile GIL holders only")
    parser.add_argument("--serve-fakes", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fakes:
        serve_fakes(args.serve_fakes)
        return

    model = model_path(ROOT / "var" / "models")
    if not model.exists():
        raise SystemExit(f"error: no NLU model at {model}: run `make model`")
    with tempfile.TemporaryDirectory() as tmp, database(args.database_url, tmp) as url:
        prepare(url, Path(tmp), telegram_rate=args.telegram_rate)

        token = secrets.token_urlsafe(16)
        rasa = RasaServer(model=model, port=free_port(), token=token)
        fakes_port, app_port = free_port(), free_port()
        urls = {
            "rasa": rasa.url,
            "token": token,
            "fakes": f"http://127.0.0.1:{fakes_port}",
            "app": f"http://127.0.0.1:{app_port}",
        }
        env = os.environ | {
            "DATABASE_URL": url,
            "FRONTDESK_CONFIG": f"{tmp}/config.yml",
            "FRONTDESK_DATA_KEY": Fernet.generate_key().decode(),
            "RASA_URL": rasa.url,
            "RASA_TOKEN": token,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_BASE_URL": f"{urls['fakes']}/telegram/bot",
        }
        frontdesk = Path(sys.executable).with_name("frontdesk")
        app_cmd = [str(frontdesk), "run", "--port", str(app_port), "--workers", str(args.workers)]
        rasa.start(log_file=Path(tmp) / "rasa.log")
        me = [sys.executable, str(Path(__file__).resolve())]
        children = [
            subprocess.Popen([*me, "--serve-fakes", str(fakes_port)], env=env),
            subprocess.Popen(app_cmd, env=env, stdout=subprocess.DEVNULL),
        ]
        try:
            rasa.wait_ready()
            wait_ready(f"{urls['fakes']}/count")
            wait_ready(f"{urls['app']}/healthz")
            assert rasa.process is not None
            pids = {"rasa": rasa.process.pid, "app": children[1].pid}
            result = asyncio.run(measure(args, urls, pids))
        finally:
            for child in children:
                child.terminate()
                child.wait(timeout=30)
            rasa.stop()
    backend = url.split(":", 1)[0].split("+")[0]
    meta = {"database": backend, "workers": args.workers, "n": args.n, "serial": args.serial}
    config = load_config(ROOT / "config.yml")
    meta["telegram_rate"] = args.telegram_rate or config.telegram.overall_rate
    print(json.dumps(meta | result, indent=1))


if __name__ == "__main__":
    main()
