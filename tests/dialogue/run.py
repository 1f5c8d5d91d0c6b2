"""Plays a scenario turn by turn, checks every turn and measures the run.

All turns are played even after a failure (the metrics need the whole conversation); the
test then fails on the first failing turn, with the later failures listed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.dialogue.checks import BotMessage, Context, check, questions_asked, shown, shows_anything
from tests.dialogue.scenario import QUESTION_SLOT, Scenario, Turn

Play = Callable[[Turn], tuple[list[BotMessage], list[str]]]  # -> replies, app errors


@dataclass
class TurnResult:
    number: int
    turn: Turn
    replies: list[BotMessage]
    failed: list[str]
    asked_again: list[str]  # slots the resident had already given
    errors: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    scenario: str
    theme: str
    channel: str
    turns: list[TurnResult] = field(default_factory=list)
    harness_error: str | None = None
    seconds: float = 0.0
    nlu_reading: str | None = None  # how the NLU read the first failing typed turn

    def first_failure(self) -> TurnResult | None:
        return next((t for t in self.turns if t.failed or t.errors), None)

    @property
    def passed(self) -> bool:
        return self.harness_error is None and not any(t.failed or t.errors for t in self.turns)

    @property
    def asked_twice(self) -> list[tuple[int, str]]:
        return [(t.number, slot) for t in self.turns for slot in t.asked_again]

    @property
    def first_suggestion(self) -> int | None:
        """Resident turns until services were first shown (None: never)."""
        for t in self.turns:
            if shows_anything(t.replies):
                return t.number
        return None

    def transcript(self) -> list[dict[str, Any]]:
        return [
            {
                "turn": t.number,
                "resident": t.turn.shown,
                "bot": [{"text": m.text, "buttons": list(m.buttons)} for m in t.replies],
            }
            for t in self.turns
        ]

    def to_json(self, *, transcript: bool = False) -> dict[str, Any]:
        extra = {"transcript": self.transcript()} if transcript or not self.passed else {}
        return {
            "scenario": self.scenario,
            "theme": self.theme,
            "channel": self.channel,
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "harness_error": self.harness_error,
            "first_suggestion_turn": self.first_suggestion,
            "nlu_reading_of_first_failing_turn": self.nlu_reading,
            "asked_twice": [{"turn": n, "slot": s} for n, s in self.asked_twice],
            "failures": [
                {"turn": t.number, "said": t.turn.shown, "failed": t.failed, "errors": t.errors}
                for t in self.turns
                if t.failed or t.errors
            ],
            **extra,
        }

    def explain(self) -> str:
        """A readable failure message: scenario, turn, what was said and answered, what failed."""
        if self.harness_error:
            return f"[{self.scenario} @ {self.channel}] HARNESS ERROR: {self.harness_error}"
        bad = [t for t in self.turns if t.failed or t.errors]
        if not bad:
            return f"[{self.scenario} @ {self.channel}] passed"
        first = bad[0]
        lines = [
            f"[{self.scenario} @ {self.channel}] turn {first.number}/{len(self.turns)} failed",
            f"  resident: {first.turn.shown}",
            "  bot:",
            shown(first.replies),
        ]
        lines += [f"  FAILED {f}" for f in first.failed]
        lines += [f"  APP ERROR {e}" for e in first.errors]
        if self.nlu_reading:
            lines.append(f"  NLU read the resident's words as: {self.nlu_reading}")
        if first.number > 1:
            prev = self.turns[first.number - 2]
            lines.append(f"  (previous turn: {prev.turn.shown})")
        if later := [f"{t.number} ({'; '.join(t.failed + t.errors)})" for t in bad[1:]]:
            lines.append("  later turns also failed: " + " | ".join(later))
        return "\n".join(lines)


def play(scenario: Scenario, channel: str, step: Play) -> RunResult:
    """Plays every turn of `scenario` through `step` and checks each reply."""
    result = RunResult(scenario.id, scenario.theme, channel)
    ctx = Context()
    given: set[str] = set()
    start = time.monotonic()
    try:
        for number, turn in enumerate(scenario.turns, start=1):
            if turn.resets:
                given.clear()
            try:
                replies, errors = step(turn)
            except AssertionError:
                raise
            except Exception as exc:  # the app raised (web chat: through the TestClient)
                replies, errors = [], [f"{type(exc).__name__}: {exc}"]
            asked = questions_asked(replies)
            again = sorted(
                QUESTION_SLOT[q] for q in asked if q in QUESTION_SLOT and QUESTION_SLOT[q] in given
            )
            failed = check(turn.expect, replies, ctx)
            result.turns.append(TurnResult(number, turn, replies, failed, again, errors))
            given.update(turn.gives)
    except AssertionError as exc:  # HarnessError and transport failures
        result.harness_error = f"turn {len(result.turns) + 1}: {exc}"
    finally:
        result.seconds = time.monotonic() - start
    return result
