"""Parse latency and throughput: our client (retries, normalisation, safety net) vs raw Rasa.

Starts the trained model once and measures both in the same run:

    .venv/bin/python bench/bench_nlu.py [--n 300] [--concurrency 4]

Prints one JSON object (milliseconds; messages per second).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from nlu.client import NluClient
from nlu.comuni import gazetteer
from nlu.rasa_process import RasaServer, model_path
from territory.model import shipped_territory

TRADATE = gazetteer(shipped_territory("tradate"))  # how its residents name places

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = [
    "cerco un nido a Tradate per mia figlia di 18 mesi",
    "ciao ho bisogno x mia mamma ke nn e piu autosufficiente abitiamo a venegono sup",
    "a ki posso kiedere x il centro estivo?",
    "mio figlio esce da scuola alle 16 e io lavoro fino alle 18, c'e un post scuola a vedano?",
    "chi vince stasera?",
    "voglio parlare con una persona",
    "buongiorno",
    "mi serve una badante per mio padre a Castiglione Olona",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(
    call: Callable[[str], Awaitable[object]], n: int, concurrency: int
) -> dict[str, float]:
    latencies: list[float] = []
    queue = [SAMPLES[i % len(SAMPLES)] for i in range(n)]

    async def worker() -> None:
        while queue:
            text = queue.pop()
            t0 = time.perf_counter()
            await call(text)
            latencies.append((time.perf_counter() - t0) * 1000)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return {
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "throughput_per_s": round(n / elapsed, 1),
    }


async def run(url: str, token: str, n: int, concurrency: int) -> dict[str, object]:
    async with (
        httpx.AsyncClient(base_url=url, timeout=10) as raw,
        NluClient(url, places=TRADATE, token=token) as ours,
    ):

        async def raw_parse(text: str) -> object:
            resp = await raw.post("/model/parse", params={"token": token}, json={"text": text})
            resp.raise_for_status()
            return resp.json()

        await measure(raw_parse, 20, 1)  # warm-up
        raw_stats = await measure(raw_parse, n, concurrency)
        ours_stats = await measure(ours.parse, n, concurrency)
    return {"messages": n, "concurrency": concurrency, "raw_rasa": raw_stats, "client": ours_stats}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    server = RasaServer(
        model=model_path(ROOT / "var" / "models"), port=5099, token=secrets.token_urlsafe(16)
    )
    server.start()
    try:
        server.wait_ready()
        print(json.dumps(asyncio.run(run(server.url, server.token, args.n, args.concurrency))))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
