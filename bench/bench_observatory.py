"""Benchmark of the observatory page's queries on 1,000,000 anonymous need events.

Run: `python bench/bench_observatory.py [--events 1000000] [--loads 40] [--postgres URL]`.
SQLite always (a temporary file); PostgreSQL when `--postgres` or TEST_POSTGRES_URL is set
(a schema of its own, dropped afterwards). Each "page load" is `page_data` of the console
(every aggregate, table and chart of the page) with a random filter: none, a period, a
comune or a channel. The page reads the `need_counts` rollup, rebuilt after the bulk load
(new events keep it in step one upsert at a time); `load_seconds` includes that rebuild.
Charts are cached by their data, so each load is timed twice: `cold` (the cache emptied
first: queries plus four matplotlib renders) and warm (`p50_ms`... : the same filters again,
as on a reload). `chart_render` times one chart's SVG and PNG render alone, cache emptied.
Prints one JSON object: milliseconds per backend (target: warm p95 < 200 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scratch_schema import scratch_schema
from bot.console.observatory_charts import render
from bot.console.observatory_data import charts
from bot.console.routes_observatory import page_data
from bot.db.engine import create_db_engine, session_factory
from bot.db.migrate import upgrade
from bot.db.models import NeedEvent
from bot.observatory import rollup
from bot.observatory.needs import BRACKETS
from bot.observatory.report import Filters, needs_cells
from catalog.taxonomy import NEED_CATEGORIES
from territory.model import shipped_territory

COMUNI = tuple(shipped_territory("tradate").comuni)
MONTHS = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)]
CHANNELS = ("webchat", "telegram", "whatsapp")
AGES = [label for _, label in BRACKETS] + ["65+", None]
COLUMNS = ("month", "categoria", "comune", "age_bracket", "channel", "matched", "handed_off")


def events(n: int, seed: int = 7) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    return [
        (
            rng.choice(MONTHS),
            rng.choice(NEED_CATEGORIES),
            rng.choice(COMUNI),
            rng.choice(AGES),
            rng.choice(CHANNELS),
            rng.random() < 0.8,
            rng.random() < 0.15,
        )
        for _ in range(n)
    ]


def load(engine: Engine, rows: list[tuple[Any, ...]]) -> None:
    """Bulk load: COPY on PostgreSQL, executemany on SQLite."""
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy(f"COPY need_events ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
    else:
        with engine.begin() as conn:
            for start in range(0, len(rows), 50_000):
                batch = [dict(zip(COLUMNS, r, strict=True)) for r in rows[start : start + 50_000]]
                conn.execute(insert(NeedEvent), batch)
    with session_factory(engine).begin() as session:
        rollup.rebuild(session)  # what migration 0008 does for existing events
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def random_filters(rng: random.Random) -> Filters:
    kind = rng.choice(("none", "period", "comune", "channel"))
    if kind == "period":
        start = rng.randrange(len(MONTHS) - 3)
        return Filters(month_from=MONTHS[start], month_to=MONTHS[start + 2])
    if kind == "comune":
        return Filters(comune=rng.choice(COMUNI))
    if kind == "channel":
        return Filters(channel=rng.choice(CHANNELS))
    return Filters()


def measure(url: str, rows: list[tuple[Any, ...]], loads: int) -> dict[str, Any]:
    upgrade(url)
    engine = create_db_engine(url)
    t0 = time.perf_counter()
    load(engine, rows)
    loaded = time.perf_counter() - t0
    sessions = session_factory(engine)
    rng = random.Random(11)
    cold, warm = [], []
    renders: dict[str, list[float]] = {"svg": [], "png": []}
    with sessions() as session:
        page_data(session, Filters(), 5, COMUNI)  # warm the caches once, as a running server
        for _ in range(loads):
            filters = random_filters(rng)
            render.cache_clear()
            one_load = partial(page_data, session, filters, 5, COMUNI)
            cold.append(timed(one_load))
            warm.append(timed(one_load))
            cells = needs_cells(session, filters)
            for chart in charts(session, filters, cells, k=5, comuni=COMUNI).values():
                for fmt in ("svg", "png"):
                    render.cache_clear()
                    renders[fmt].append(timed(partial(render, chart, fmt)))
    engine.dispose()
    return {
        "events": len(rows),
        "load_seconds": round(loaded, 1),
        "page_loads": loads,
        **stats(warm),
        "cold": stats(cold),
        "chart_render": {fmt: stats(times) for fmt, times in renders.items()},
        "target_p95_ms": 200,
    }


def timed(call: Any) -> float:
    """Milliseconds one call takes."""
    t = time.perf_counter()
    call()
    return (time.perf_counter() - t) * 1000


def stats(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(int(len(times) * 0.95) - 1, 0)], 1),
        "mean_ms": round(statistics.fmean(times), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--loads", type=int, default=40)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"))
    args = parser.parse_args()
    rows = events(args.events)
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        result["sqlite"] = measure(f"sqlite:///{tmp}/bench.db", rows, args.loads)
    if args.postgres:
        with scratch_schema(args.postgres, "bench_observatory") as url:
            result["postgresql"] = measure(url, rows, args.loads)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
