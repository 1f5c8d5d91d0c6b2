"""The conversation scenarios of tests/dialogue/scenarios/*.yml, loaded and checked strictly.

A typo in a key must fail loudly (it would silently drop an expectation), so every mapping
is checked against the keys this module knows. The format is described in README.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SCENARIO_DIR = Path(__file__).with_name("scenarios")
CHANNELS = ("webchat", "telegram", "whatsapp")
SLOTS = frozenset({"categoria", "comune", "eta", "familiare", "periodo", "orario"})
QUESTIONS = frozenset({"consent", "category", "comune", "age", "operator_offer", "none"})
TOPICS = frozenset({"cost", "access", "where", "hours", "contacts", "eligibility", "dates"})
# What the bot asks -> the slot that question is about (for "asked twice").
QUESTION_SLOT = {"category": "categoria", "comune": "comune", "age": "eta"}

EXPECT_KEYS = frozenset(
    {
        "asks",
        "shows",
        "no_match",
        "mentions",
        "not_mentions",
        "contains",
        "contains_any",
        "not_contains",
        "emergency",
        "handoff",
        "answers_about",
        "about",
        "silent",
        "offers_choices",
    }
)
TURN_KEYS = frozenset({"say", "tap", "open", "gives", "parse", "expect", "resets", "note"})
SCENARIO_KEYS = frozenset({"id", "turns", "channels", "note", "known_gap"})
PARSE_KEYS = frozenset({"intent", "confidence", "comune", "eta", "familiare"})


class ScenarioError(ValueError):
    """A scenario file does not follow the format."""


@dataclass(frozen=True)
class Turn:
    """One thing the resident does: types (`say`), taps a button (`tap`) or opens the chat."""

    say: str | None = None
    tap: str | None = None
    open: bool = False
    open_param: str | None = None  # Telegram deep link: /start <param>
    gives: tuple[str, ...] = ()
    parse: dict[str, Any] | None = None  # hand-written parse for the pure-flow run
    expect: dict[str, Any] = field(default_factory=dict)
    resets: bool = False  # the resident restarts: what was given before may be asked again

    @property
    def shown(self) -> str:
        """How the turn reads in a failure message."""
        if self.say is not None:
            return repr(self.say)
        if self.tap is not None:
            return f"<tap {self.tap}>"
        return "<opens the chat" + (f" /start {self.open_param}>" if self.open_param else ">")


@dataclass(frozen=True)
class Scenario:
    """A multi-turn conversation and what the bot must do at each turn."""

    id: str
    theme: str  # the file it comes from
    turns: tuple[Turn, ...]
    channels: tuple[str, ...] = CHANNELS
    note: str = ""
    # Why the real front desk does not pass it yet: run, reported, expected to fail (xfail).
    known_gap: str = ""

    @property
    def flow_ready(self) -> bool:
        """True when every typed turn has a `parse:` hint: it can run without Rasa."""
        return all(
            (t.say is not None and t.parse is not None) or t.tap is not None for t in self.turns
        )


def _fail(where: str, message: str) -> ScenarioError:
    return ScenarioError(f"{where}: {message}")


def _keys(where: str, data: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _fail(where, f"expected a mapping, got {type(data).__name__}")
    if unknown := set(data) - allowed:
        raise _fail(where, f"unknown keys {sorted(unknown)} (known: {sorted(allowed)})")
    return data


def _strings(where: str, value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) and v for v in items):
        raise _fail(where, f"expected a string or a list of strings, got {value!r}")
    return tuple(items)


def _expect(where: str, data: Any) -> dict[str, Any]:
    exp = dict(_keys(where, data or {}, EXPECT_KEYS))
    if "asks" in exp and exp["asks"] not in QUESTIONS:
        raise _fail(where, f"asks: {exp['asks']!r} not one of {sorted(QUESTIONS)}")
    if "answers_about" in exp and exp["answers_about"] not in TOPICS:
        raise _fail(where, f"answers_about: {exp['answers_about']!r} not one of {sorted(TOPICS)}")
    if "about" in exp and "answers_about" not in exp:
        raise _fail(where, "about: only together with answers_about")
    for key in ("mentions", "not_mentions", "contains", "contains_any", "not_contains"):
        if key in exp:
            exp[key] = _strings(f"{where}.{key}", exp[key])
    for key in ("emergency", "handoff", "silent", "offers_choices", "no_match"):
        if key in exp and not isinstance(exp[key], bool):
            raise _fail(where, f"{key}: expected true or false")
    return exp


def _turn(where: str, data: Any) -> Turn:
    raw = _keys(where, data, TURN_KEYS)
    kinds = [k for k in ("say", "tap", "open") if k in raw]
    if len(kinds) != 1:
        raise _fail(where, "exactly one of say / tap / open")
    gives = _strings(f"{where}.gives", raw["gives"]) if "gives" in raw else ()
    if bad := set(gives) - SLOTS:
        raise _fail(where, f"gives: unknown slots {sorted(bad)} (known: {sorted(SLOTS)})")
    parse = raw.get("parse")
    if parse is not None:
        parse = dict(_keys(f"{where}.parse", parse, PARSE_KEYS))
        if "intent" not in parse:
            raise _fail(where, "parse: needs an intent (null for 'not understood')")
    if parse is not None and "say" not in raw:
        raise _fail(where, "parse: only on a say turn")
    opening = raw.get("open")
    if "open" in raw and not (opening is True or isinstance(opening, str)):
        raise _fail(where, "open: true, or the Telegram deep-link parameter")
    if "say" in raw and not (isinstance(raw["say"], str) and raw["say"].strip()):
        raise _fail(where, "say: a non-empty string")
    tap = raw.get("tap")
    if "tap" in raw and not (isinstance(tap, str) and (":" in tap or tap in {"yes", "no"})):
        raise _fail(where, f"tap: a button payload, got {tap!r}")
    return Turn(
        say=raw.get("say"),
        tap=raw.get("tap"),
        open="open" in raw,
        open_param=opening if isinstance(opening, str) else None,
        gives=gives,
        parse=parse,
        expect=_expect(f"{where}.expect", raw.get("expect")),
        resets=bool(raw.get("resets", False)),
    )


def parse_file(path: Path) -> list[Scenario]:
    """The scenarios of one file (the theme is the file's stem)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise _fail(path.name, "expected a list of scenarios")
    scenarios = []
    for i, item in enumerate(data):
        raw = _keys(f"{path.name}[{i}]", item, SCENARIO_KEYS)
        sid = raw.get("id")
        if not isinstance(sid, str) or not sid:
            raise _fail(f"{path.name}[{i}]", "id: a non-empty string")
        turns_raw = raw.get("turns")
        if not isinstance(turns_raw, list) or not turns_raw:
            raise _fail(sid, "turns: a non-empty list")
        turns = tuple(_turn(f"{sid} turn {n}", t) for n, t in enumerate(turns_raw, start=1))
        channels = _strings(f"{sid}.channels", raw["channels"]) if "channels" in raw else CHANNELS
        if bad := set(channels) - set(CHANNELS):
            raise _fail(sid, f"channels: unknown {sorted(bad)}")
        note = str(raw.get("note", "")).strip()
        gap = str(raw.get("known_gap", "")).strip()
        scenarios.append(Scenario(sid, path.stem, turns, tuple(channels), note, gap))
    return scenarios


@cache
def load_all(directory: Path = SCENARIO_DIR) -> tuple[Scenario, ...]:
    """Every scenario, in file and then file order; ids are unique."""
    found: list[Scenario] = []
    for path in sorted(directory.glob("*.yml")):
        found.extend(parse_file(path))
    seen: set[str] = set()
    for s in found:
        if s.id in seen:
            raise ScenarioError(f"duplicate scenario id {s.id!r}")
        seen.add(s.id)
    return tuple(found)
