"""Deterministic safety net for emergencies (taxonomy intent `emergenza`).

The model may misclassify a message written with typos, in dialect or in a rush;
an emergency must still be caught. This module is a lexicon of regular expressions
(nlu/resources/emergenza.yml) over the normalised, double-letter-squeezed message,
so "mi pikkia", "mi pichia" and "MI PICCHIA!!!" are the same text.

Policy: err on the side of safety, but not absurdly.
- First-person or immediate phrasing always fires ("mi picchia", "voglio farla
  finita", "non respira"), even in idioms we cannot tell apart ("voglio farla finita
  con questa burocrazia" fires: a wrong helpline card is cheap, a missed one is not).
- Topic words fire unless the message is clearly *about* the subject: "infarto" or
  "ictus" in "ha avuto un ictus l'anno scorso, cerco una badante" (very common here:
  caregiving needs) or "violenza" in "convegno sulla violenza di genere" do not.
- Verbs that are also idioms need their victim: "il sole picchia" or "mi tocca
  lavorare fino alle 18" do not fire, "mi picchia" and "lo zio mi tocca" do.
- "centro antiviolenza orari" fires as `violenza`: whoever asks for it may be at
  risk, and 1522 is the entry point to the centri antiviolenza anyway.

Every kind's answer should also show 112 for immediate danger (`HELPLINES`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

import yaml

from nlu.text import normalise, squeeze

# When several kinds match, the most specific helpline wins.
KIND_PRIORITY: tuple[str, ...] = ("abuso_minori", "suicidio", "violenza", "sanitaria")

HELPLINES: dict[str, tuple[tuple[str, str], ...]] = {
    "violenza": (("1522", "Numero antiviolenza e stalking"), ("112", "Numero unico emergenza")),
    "abuso_minori": (("19696", "Telefono Azzurro"), ("112", "Numero unico emergenza")),
    "suicidio": (("02 2327 2327", "Telefono Amico"), ("112", "Numero unico emergenza")),
    "sanitaria": (("112", "Numero unico emergenza"),),
}

_MACROS = {"{gap}": "(?:[a-z0-9]+ ){0,3}", "{w}": "[a-z0-9]*"}
_ESCAPE = re.compile(r"\\[a-zA-Z]")


@dataclass(frozen=True)
class _Rules:
    always: tuple[re.Pattern[str], ...]
    topic: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile one lexicon pattern (see the header of resources/emergenza.yml).

    Args:
        pattern: Plain-Italian regex, with `{gap}` and `{w}` macros.

    Returns:
        A regex matching whole words of `squeeze(normalise(text))`.

    Raises:
        ValueError: If the pattern uses backslash escapes, which squeezing breaks.
    """
    if _ESCAPE.search(pattern):
        raise ValueError(f"no backslash escapes in safety patterns: {pattern!r}")
    body = squeeze(pattern)
    for macro, expansion in _MACROS.items():
        body = body.replace(macro, expansion)
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")


@functools.cache
def _rules() -> dict[str, _Rules]:
    source = resources.files("nlu") / "resources" / "emergenza.yml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    rules = {}
    for kind in KIND_PRIORITY:
        entry = data[kind]
        rules[kind] = _Rules(
            *(
                tuple(compile_pattern(p) for p in entry.get(part) or ())
                for part in ("always", "topic", "unless")
            )
        )
    return rules


def _prepare(text: str) -> str:
    return squeeze(normalise(text))


def emergency_kinds(text: str) -> tuple[str, ...]:
    """Every kind of emergency the message matches, in `KIND_PRIORITY` order.

    Args:
        text: A resident's raw message.

    Returns:
        Kinds among "abuso_minori", "suicidio", "violenza", "sanitaria"; empty if none.
    """
    prepared = _prepare(text)
    found = []
    for kind, rules in _rules().items():
        if any(p.search(prepared) for p in rules.always) or (
            any(p.search(prepared) for p in rules.topic)
            and not any(p.search(prepared) for p in rules.unless)
        ):
            found.append(kind)
    return tuple(found)


def emergency_kind(text: str) -> str | None:
    """The kind of emergency in a message, to pick the helpline.

    Args:
        text: A resident's raw message.

    Returns:
        "abuso_minori" (Telefono Azzurro 19696), "suicidio" (Telefono Amico),
        "violenza" (1522), "sanitaria" (112), or None. With several, the first
        in `KIND_PRIORITY`.
    """
    kinds = emergency_kinds(text)
    return kinds[0] if kinds else None


def is_emergency(text: str) -> bool:
    """Whether a message must be treated as an emergency whatever the model says.

    Args:
        text: A resident's raw message.

    Returns:
        True if any emergency pattern matches. Never raises on any string.
    """
    return bool(emergency_kinds(text))
