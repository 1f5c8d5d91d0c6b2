"""Reads annotated examples: Rasa 3 NLU YAML (held-out set) and JSONL test sets (shared/eval)."""

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


class EvalFileError(ValueError):
    """A test file that cannot be read; the message names the file and the line."""


@dataclass(frozen=True)
class EvalFile:
    """The examples of a JSONL test file and how many lines were left out."""

    examples: list[Example]
    skipped_in_training: int


def read_jsonl(
    path: Path, *, intents: tuple[str, ...], include_in_training: bool = False
) -> EvalFile:
    """Reads a test set in the shared/eval format: one JSON object per line.

    Fields: `text` and `intent` (strings, the intent one of `intents`), optional
    `comune` (a name or a list of names) and `in_training` (true when the text is also
    in the training data: such lines are skipped unless `include_in_training`). Other
    fields (`source`, `orig_label`) are ignored; blank lines too.

    Raises:
        EvalFileError: on a missing file or a malformed line, naming its number.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"{path}: cannot read: {exc}") from exc
    examples: list[Example] = []
    skipped = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalFileError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise EvalFileError(f"{where}: expected a JSON object")
        text, intent = row.get("text"), row.get("intent")
        if not isinstance(text, str) or not text.strip():
            raise EvalFileError(f"{where}: 'text' must be a non-empty string")
        if not isinstance(intent, str) or intent not in intents:
            raise EvalFileError(f"{where}: unknown intent {intent!r} (see shared/taxonomy.yml)")
        comuni = row.get("comune", [])
        comuni = [comuni] if isinstance(comuni, str) else comuni
        if not isinstance(comuni, list) or not all(isinstance(c, str) for c in comuni):
            raise EvalFileError(f"{where}: 'comune' must be a string or a list of strings")
        if row.get("in_training") is True and not include_in_training:
            skipped += 1
            continue
        entities = tuple(("comune", c) for c in comuni)
        examples.append(Example(text=text, intent=intent, entities=entities))
    return EvalFile(examples=examples, skipped_in_training=skipped)
