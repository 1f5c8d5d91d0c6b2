"""The suite's metrics: pass share per channel, slots asked twice, turns to the first suggestion."""

from __future__ import annotations

import json
import os
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from tests.dialogue.run import RunResult

VAR = Path(__file__).resolve().parents[2] / "var"
REPORT_FILE = VAR / "dialogue-report.json"
FLOW_REPORT_FILE = VAR / "dialogue-flow-report.json"


def _group(results: list[RunResult], attr: str) -> dict[str, list[RunResult]]:
    groups: dict[str, list[RunResult]] = defaultdict(list)
    for r in results:
        groups[getattr(r, attr)].append(r)
    return groups


def summary(results: list[RunResult]) -> dict[str, Any]:
    by_channel: dict[str, list[RunResult]] = defaultdict(list)
    for r in results:
        by_channel[r.channel].append(r)
    turns = [t for r in results if (t := r.first_suggestion) is not None]
    twice = [(r, n, slot) for r in results for n, slot in r.asked_twice]
    passed = sum(r.passed for r in results)
    return {
        "runs": len(results),
        "passed": passed,
        "pass_share": round(passed / len(results), 3) if results else None,
        "per_channel": {
            ch: {
                "runs": len(rs),
                "passed": sum(r.passed for r in rs),
                "pass_share": round(sum(r.passed for r in rs) / len(rs), 3),
            }
            for ch, rs in sorted(by_channel.items())
        },
        "per_theme": {
            theme: {"runs": len(rs), "passed": sum(r.passed for r in rs)}
            for theme, rs in sorted(_group(results, "theme").items())
        },
        "slots_asked_twice": {
            "count": len(twice),
            "scenarios": sorted({r.scenario for r, _n, _s in twice}),
            "cases": [
                {"scenario": r.scenario, "channel": r.channel, "turn": n, "slot": s}
                for r, n, s in twice
            ],
        },
        "turns_to_first_suggestion": {
            "runs_with_suggestions": len(turns),
            "mean": round(statistics.mean(turns), 2) if turns else None,
            "max": max(turns) if turns else None,
        },
        "harness_errors": [
            {"scenario": r.scenario, "channel": r.channel, "error": r.harness_error}
            for r in results
            if r.harness_error
        ],
        "seconds": round(sum(r.seconds for r in results), 1),
    }


def write(results: list[RunResult], path: Path = REPORT_FILE) -> dict[str, Any]:
    data = summary(results)
    every = os.environ.get("DIALOGUE_TRANSCRIPTS") == "1"  # else only the failing runs
    data["results"] = [r.to_json(transcript=every) for r in results]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return data


def lines(data: dict[str, Any], kind: str) -> list[str]:
    """The terminal summary."""
    out = [
        f"{kind}: {data['runs']} runs (scenario x channel), {data['passed']} passed "
        f"({data['pass_share']:.0%})"
    ]
    for ch, c in data["per_channel"].items():
        out.append(f"  {ch:9s} {c['passed']:3d}/{c['runs']:<3d} passed ({c['pass_share']:.0%})")
    themes = [
        f"{t.split('_', 1)[-1]} {c['passed']}/{c['runs']}" for t, c in data["per_theme"].items()
    ]
    out.append("  by theme: " + ", ".join(themes))
    twice = data["slots_asked_twice"]
    out.append(
        f"  slots asked twice: {twice['count']}"
        + (f" in {', '.join(twice['scenarios'])}" if twice["scenarios"] else "")
    )
    t = data["turns_to_first_suggestion"]
    if t["runs_with_suggestions"]:
        out.append(
            f"  resident turns to the first suggestion: mean {t['mean']}, max {t['max']} "
            f"({t['runs_with_suggestions']} runs showed services)"
        )
    else:
        out.append("  resident turns to the first suggestion: no run showed services")
    if data["harness_errors"]:
        out.append(f"  HARNESS ERRORS: {len(data['harness_errors'])} (see the report file)")
    return out
