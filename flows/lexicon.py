"""The words the flow recognises on its own (flows/lexicon.yml), as compiled patterns."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from nlu.text import normalise

LEXICON_FILE = Path(__file__).with_name("lexicon.yml")


@cache
def lexicon() -> dict[str, Any]:
    data = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@cache
def pattern(key: str) -> re.Pattern[str]:
    """One alternation of whole-word expressions from lexicon.yml (dotted keys for groups)."""
    node: Any = lexicon()
    for part in key.split("."):
        node = node[part]
    alternatives = node if isinstance(node, list) else [node]
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")(?![a-z0-9])")


def says(key: str, text: str | None) -> bool:
    """Whether the normalised text contains one of the expressions at `key`."""
    return bool(text) and bool(pattern(key).search(normalise(text or "")))


def is_only(key: str, text: str | None) -> bool:
    """Whether the whole message is one of the expressions at `key` ("ricominciamo!")."""
    return bool(text) and bool(pattern(key).fullmatch(normalise(text or "")))
