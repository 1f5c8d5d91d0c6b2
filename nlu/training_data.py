"""Reads annotated examples from Rasa 3 NLU YAML (the held-out test set, the eval command)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

# [span](entity) | [span](entity:value) | [span]{"entity": ..., "value": ...}
ANNOTATION = re.compile(r"\[(?P<span>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True)
class Example:
    """One annotated message: plain text, intent, and (entity, value or span) pairs."""

    text: str
    intent: str
    entities: tuple[tuple[str, str], ...]


def parse_example(line: str, intent: str) -> Example:
    """Strips Rasa's inline annotations, keeping the entities they declare."""
    entities: list[tuple[str, str]] = []

    def strip(m: re.Match[str]) -> str:
        span = m.group("span")
        if m.group("json"):
            data = json.loads(m.group("json"))
            entities.append((str(data["entity"]), str(data.get("value", span))))
        else:
            name, _, value = m.group("short").partition(":")
            entities.append((name, value or span))
        return span

    return Example(text=ANNOTATION.sub(strip, line), intent=intent, entities=tuple(entities))


def read_examples(path: Path) -> list[Example]:
    """Every example of every intent in a Rasa NLU YAML file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples: list[Example] = []
    for block in data.get("nlu", []):
        if "intent" not in block:
            continue  # synonyms, lookups and regexes carry no test examples
        for raw in str(block.get("examples", "")).splitlines():
            line = raw.strip()
            if line.startswith("- "):
                examples.append(parse_example(line[2:].strip(), str(block["intent"])))
    return examples
