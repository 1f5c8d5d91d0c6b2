"""The scenarios whose typed turns all carry a `parse:` hint, over the pure flow (no Rasa, no
transport): tests/flows' Convo driver with the hand-written parses."""

from __future__ import annotations

import pytest

from tests.dialogue.checks import BotMessage
from tests.dialogue.run import RunResult, play
from tests.dialogue.scenario import Scenario, Turn, load_all
from tests.flows.conftest import Convo

CASES = [pytest.param(s, id=s.id) for s in load_all() if s.flow_ready]


def test_enough_flow_scenarios() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("scenario", CASES)
def test_flow_scenario(scenario: Scenario, flow_runs: list[RunResult]) -> None:
    convo = Convo()

    def step(turn: Turn) -> tuple[list[BotMessage], list[str]]:
        if turn.tap is not None:
            outcome = convo.tap(turn.tap)
        else:
            assert turn.say is not None and turn.parse is not None
            hint = dict(turn.parse)
            intent = hint.pop("intent")
            confidence = float(hint.pop("confidence", 0.9))
            outcome = convo.send(turn.say, intent, confidence=confidence, **hint)
        replies = [
            BotMessage(
                r.text, tuple(b.title for b in r.buttons), tuple(b.payload for b in r.buttons)
            )
            for r in outcome.replies
        ]
        return replies, []

    result = play(scenario, "flow", step)
    flow_runs.append(result)
    assert result.passed, result.explain()
