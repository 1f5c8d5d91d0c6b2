"""Every scenario of tests/dialogue/scenarios through every channel, with the real Rasa model."""

from __future__ import annotations

import asyncio

import pytest

from nlu.client import NluClient
from nlu.comuni import gazetteer
from nlu.rasa_process import RasaServer
from territory.model import shipped_territory
from tests.dialogue.checks import BotMessage
from tests.dialogue.drivers import App, app_errors, resident, without_notices
from tests.dialogue.run import RunResult, play
from tests.dialogue.scenario import Scenario, Turn, load_all

TRADATE = gazetteer(shipped_territory("tradate"))  # how its residents name places

pytestmark = pytest.mark.rasa

CASES = [
    pytest.param(
        s,
        ch,
        id=f"{s.id}@{ch}",
        marks=[pytest.mark.xfail(reason=s.known_gap, strict=False)] if s.known_gap else [],
    )
    for s in load_all()
    for ch in s.channels
]


def nlu_reading(server: RasaServer, text: str) -> str:
    """Intent, confidence and entities the real model gives `text` (to tell an NLU
    misunderstanding from a flow failure at a glance)."""

    async def parse() -> str:
        async with NluClient(server.url, places=TRADATE, token=server.token) as nlu:
            r = await nlu.parse(text)
        ents = ", ".join(f"{e.entity}={e.value}" for e in r.entities) or "no entities"
        return f"{r.intent} {r.confidence:.2f} ({r.status.value}), {ents}"

    return asyncio.run(parse())


@pytest.mark.parametrize(("scenario", "channel"), CASES)
def test_scenario(
    scenario: Scenario,
    channel: str,
    dialogue_app: App,
    rasa_runs: list[RunResult],
    rasa_server: RasaServer,
) -> None:
    person = resident(dialogue_app, channel, scenario.id)

    def step(turn: Turn) -> tuple[list[BotMessage], list[str]]:
        with app_errors(dialogue_app) as errors:
            if turn.say is not None:
                replies = person.say(turn.say)
            elif turn.tap is not None:
                replies = person.tap(turn.tap)
            else:
                replies = person.open(turn.open_param)
        kept, _notices = without_notices(replies)
        return kept, list(errors)

    result = play(scenario, channel, step)
    failing = result.first_failure()
    if failing is not None:  # a tap: how the last words before it were read
        said = [t.say for t in scenario.turns[: failing.number] if t.say is not None]
        if said:
            result.nlu_reading = f"{said[-1]!r} -> {nlu_reading(rasa_server, said[-1])}"
    rasa_runs.append(result)
    assert result.passed, result.explain()
