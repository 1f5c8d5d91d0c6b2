"""A scripted conversation driver over the pure flow, with the seed catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.context import make_context
from bot.settings import load_config
from catalog.loader import load_path
from catalog.matching import CatalogIndex
from flows.dialogue import step
from flows.replies import Reply
from flows.state import DialogueState
from flows.turn import Event, FlowContext, Outcome, Turn
from nlu.types import Entity, ParseResult, ParseStatus
from territory.model import shipped_territory

# The comuni a catalogue service may serve: the Ambito di Tradate and its neighbours.
PLACES = tuple(shipped_territory("tradate").places)

ROOT = Path(__file__).resolve().parents[2]
ROME = ZoneInfo("Europe/Rome")
OPEN = datetime(2026, 11, 25, 10, 0, tzinfo=ROME)  # Wednesday 10:00: Tradate is open
CLOSED = datetime(2026, 11, 28, 22, 0, tzinfo=ROME)  # Saturday night


@cache
def catalogue() -> CatalogIndex:
    result = load_path(ROOT / "catalog" / "data", places=PLACES)
    assert not result.problems, result.problems
    return CatalogIndex(result.services)


def context(now: datetime = OPEN) -> FlowContext:
    config = load_config(ROOT / "config.yml")
    return make_context(
        config, catalog=catalogue(), privacy_url="https://example.org/privacy", now=now
    )


def parsed(
    text: str, intent: str | None, confidence: float = 0.9, **entities: object
) -> ParseResult:
    ents = tuple(
        Entity(name, v)  # type: ignore[arg-type]
        for name, values in entities.items()
        for v in (values if isinstance(values, list) else [values])
    )
    status = ParseStatus.OK if confidence >= 0.55 else ParseStatus.LOW_CONFIDENCE
    return ParseResult(
        text=text, intent=intent, confidence=confidence, entities=ents, status=status
    )


@dataclass
class Convo:
    """Drives the flow turn by turn, persisting the state as the app does (JSON round trip)."""

    ctx: FlowContext = field(default_factory=context)
    state: DialogueState = field(default_factory=DialogueState)
    events: list[Event] = field(default_factory=list)

    def send(
        self,
        text: str | None = None,
        intent: str | None = None,
        *,
        payload: str | None = None,
        confidence: float = 0.9,
        status: ParseStatus | None = None,
        **entities: object,
    ) -> Outcome:
        parse = None
        if payload is None and text is not None:
            parse = parsed(text, intent, confidence, **entities)
            if status is not None:
                parse = ParseResult(
                    text=text, intent=None, confidence=0.0, entities=parse.entities, status=status
                )
        outcome = step(self.state, Turn(text=text, payload=payload, parse=parse), self.ctx)
        self.state = DialogueState.load(outcome.state.dump())  # as if reloaded from the DB
        self.events.extend(outcome.events)
        return outcome

    def tap(self, payload: str) -> Outcome:
        return self.send(payload=payload)

    def consented(self) -> Convo:
        self.send("ciao", "saluto")
        self.tap("consent:yes")
        return self


def text_of(outcome: Outcome) -> str:
    return "\n".join(r.text for r in outcome.replies)


def payloads(outcome: Outcome) -> list[str]:
    return [b.payload for r in outcome.replies for b in r.buttons]


def last(outcome: Outcome) -> Reply:
    return outcome.replies[-1]


@pytest.fixture
def convo() -> Convo:
    return Convo()
