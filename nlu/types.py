"""Typed results of understanding a resident's message."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ParseStatus(StrEnum):
    """How much we can trust a parse."""

    OK = "ok"
    LOW_CONFIDENCE = "low_confidence"
    UNAVAILABLE = "unavailable"  # Rasa down or answering garbage: the flow falls back to buttons


@dataclass(frozen=True)
class Entity:
    """An entity with its normalised value (names from shared/taxonomy.yml)."""

    entity: str  # comune | eta | familiare
    value: str | float


@dataclass(frozen=True)
class ParseResult:
    """What the NLU understood of one message."""

    text: str
    intent: str | None
    confidence: float
    entities: tuple[Entity, ...] = ()
    status: ParseStatus = ParseStatus.OK
    ranking: tuple[tuple[str, float], ...] = field(default=(), compare=False)

    def values(self, entity: str) -> list[str | float]:
        """All values found for one entity type, in order of appearance."""
        return [e.value for e in self.entities if e.entity == entity]

    def to_json(self) -> dict[str, object]:
        """The public JSON shape of `frontdesk nlu parse` (shared/DESIGN.md)."""
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "entities": [
                {"entity": e.entity, "value": _json_number(e.value)} for e in self.entities
            ],
        }


def _json_number(value: str | float) -> str | float | int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
