"""Benchmark of `catalog.matching.match`: 5,000 synthetic services, random need profiles.

Run: `python bench/bench_matching.py [--services 5000] [--queries 2000] [--no-freeze]`.
Prints the index build time and p50/p95/mean milliseconds per query (target: < 5 ms), as
wall-clock time and as CPU time of the thread (which a busy machine does not inflate).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from datetime import date, timedelta
from typing import Any

from catalog.matching import CatalogIndex, NeedProfile, match
from catalog.schema import Service
from catalog.taxonomy import FAMILIARI, NEED_CATEGORIES
from catalog.vocab import IseeTipo, ModelloCosto, Unita
from territory.model import shipped_territory

TRADATE = shipped_territory("tradate")
AMBITO_TRADATE = tuple(TRADATE.comuni)
COMUNI = list(TRADATE.places)

TODAY = date(2026, 11, 23)


def synthetic(i: int, rng: random.Random) -> Service:
    """A random but valid service."""
    area = rng.sample(COMUNI, rng.randint(1, 8))
    lo = rng.choice([None, 0, 3, 6, 11, 18, 65])
    hi = None if lo is None else lo + rng.choice([3, 5, 8, 40])
    modello = rng.choice(list(ModelloCosto))
    costo: dict[str, Any] = {"modello": modello.value}
    if modello in (ModelloCosto.TARIFFA, ModelloCosto.BUONO):
        costo.update(importo=rng.randint(5, 600), unita=rng.choice(list(Unita)).value)
    if modello is ModelloCosto.RIMBORSO:
        costo.update(percentuale=rng.choice([30, 50, 70]), tetto=500)
    start = TODAY + timedelta(days=rng.randint(-200, 200))
    record: dict[str, Any] = {
        "id": f"servizio-{i:05d}",
        "nome": f"Servizio sintetico {i}",
        "descrizione": "Un servizio generato per il benchmark.",
        "categoria": rng.choice(NEED_CATEGORIES),
        "tipo": rng.choice(["servizio", "servizio", "contributo"]),
        "destinatari": "Famiglie",
        "familiari": rng.sample(FAMILIARI, rng.choice([0, 0, 2])),
        "eta_min": lo,
        "eta_max": hi,
        "requisiti": {
            "comuni_residenza": area if rng.random() < 0.2 else [],
            "genitori_lavoratori": rng.random() < 0.3,
            **(
                {"isee_max": rng.choice([15000, 25000, 40000]), "isee_tipo": IseeTipo.ORDINARIO}
                if rng.random() < 0.3
                else {}
            ),
        },
        "ente_titolare": "Ente",
        "area_servita": area,
        "sedi": [{"nome": "Sede", "indirizzo": "Via Roma 1", "comune": area[0]}],
        "orari": {
            "fasce": [
                {
                    "giorni": ["lun", "mar"],
                    "dalle": "08:00",
                    "alle": rng.choice(["12:00", "16:00", "18:30"]),
                }
            ]
        },
        "periodo_attivita": {"mesi": [6, 7, 8]} if rng.random() < 0.2 else None,
        "costo": costo,
        "accesso": {"finestra_domanda": {"dal": start, "al": start + timedelta(days=60)}}
        if rng.random() < 0.3
        else {},
        "contatti": {"telefono": "0331 000 000"},
        "richiede_valutazione": rng.random() < 0.2,
        "fonte": "benchmark",
        "data_verifica": TODAY,
        "provenienza": "esempio",
    }
    return Service.model_validate(record)


def profile(rng: random.Random) -> NeedProfile:
    """A random need, with each detail known or not."""
    return NeedProfile(
        categoria=rng.choice(NEED_CATEGORIES),
        comune=rng.choice([None, *AMBITO_TRADATE]),
        eta=tuple(rng.uniform(0, 90) for _ in range(rng.randint(0, 2))),
        familiare=rng.choice([None, *FAMILIARI]),
        genitori_lavoratori=rng.choice([None, True, False]),
        orario=rng.choice([None, "16:30", "18:00"]),
        isee=rng.choice([None, 9000.0, 30000.0]),
    )


def main() -> None:
    """Builds the catalogue, runs the queries, prints the timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--no-freeze", action="store_true", help="Keep the index under GC")
    args = parser.parse_args()
    rng = random.Random(42)
    services = [synthetic(i, rng) for i in range(args.services)]
    started = time.perf_counter()
    index = CatalogIndex(services)
    build_ms = (time.perf_counter() - started) * 1000
    queries = [profile(rng) for _ in range(args.queries)]
    if not args.no_freeze:
        # The index lives as long as the process: full GC passes over its ~10^5 objects are
        # rare pauses (the max), which gc.freeze() removes as a long-running app would.
        gc.freeze()
    wall: list[float] = []
    cpu: list[float] = []
    found = 0
    for query in queries:
        w0, c0 = time.perf_counter(), time.thread_time()
        outcome = match(index, query, today=TODAY)
        cpu.append((time.thread_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
        found += len(outcome.matches)
    print(f"services: {args.services}  queries: {args.queries}  index build: {build_ms:.1f} ms"
          f"  avg matches: {found / len(queries):.0f}")  # fmt: skip
    for label, timings in (("wall", wall), ("cpu", cpu)):
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"{label:>4} ms/query: p50 {statistics.median(timings):.3f}  p95 {p95:.3f}"
              f"  mean {statistics.fmean(timings):.3f}  max {timings[-1]:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
