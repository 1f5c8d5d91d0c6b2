"""A second Ambito (Saronno) configured by adding data only: a territory file and a catalogue.

Every piece that used to name the Ambito di Tradate in code reads the territory instead:
location, comuni in text, the comune offices, the catalogue loader and the observatory.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.channels.location import location_payload
from bot.console import observatory_data
from bot.context import make_context
from bot.observatory.report import Cell
from bot.settings import AppConfig, load_config
from catalog.loader import load_path
from catalog.matching import CatalogIndex
from flows.dialogue import step
from flows.hours import point_for
from flows.state import DialogueState
from flows.turn import FlowContext, Outcome, Turn
from nlu.comuni import gazetteer
from nlu.types import Entity, ParseResult, ParseStatus
from territory.model import shipped_territory

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> AppConfig:
    """The repository's config.yml, pointed at the Saronno territory file."""
    text = (ROOT / "config.yml").read_text(encoding="utf-8")
    assert "territory: tradate\n" in text
    saronno = FIXTURES / "territories" / "saronno.yml"
    path = tmp_path_factory.mktemp("saronno") / "config.yml"
    path.write_text(text.replace("territory: tradate\n", f"territory: {saronno}\n"), "utf-8")
    return load_config(path)


@pytest.fixture(scope="module")
def ctx(config: AppConfig) -> FlowContext:
    catalogue = load_path(FIXTURES / "catalog_saronno.yml", places=config.territory.places)
    assert catalogue.ok, catalogue.problems
    now = datetime(2026, 11, 23, 10, 0, tzinfo=config.territory.zone)  # a Monday morning
    return make_context(
        config, catalog=CatalogIndex(catalogue.services), privacy_url="/privacy", now=now
    )


def say(ctx: FlowContext, state: DialogueState, text: str, intent: str, **ents: str) -> Outcome:
    entities = tuple(Entity(name, value) for name, value in ents.items())  # type: ignore[arg-type]
    parse = ParseResult(
        text=text, intent=intent, confidence=0.9, entities=entities, status=ParseStatus.OK
    )
    return step(state, Turn(text=text, parse=parse), ctx)


def test_the_settings_follow_the_territory(config: AppConfig) -> None:
    assert config.territory.name == "Ambito di Saronno"
    assert [p.id for p in config.social_points] == ["saronno", "cislago"]
    assert config.campaigns.timezone == "Europe/Rome"


def test_a_shared_location_picks_the_nearest_saronno_social_point(
    config: AppConfig, ctx: FlowContext
) -> None:
    centroids = config.territory.centroids  # what the webhooks give the channels
    payload = location_payload(45.6420, 8.9990, centroids)  # in Gerenzano
    assert payload == "comune:Gerenzano"
    assert point_for(payload.removeprefix("comune:"), ctx.social_points).id == "cislago"
    assert location_payload(45.6260, 9.0360, centroids) == "comune:Saronno"
    assert point_for("Saronno", ctx.social_points).id == "saronno"
    assert location_payload(45.8206, 8.8251, centroids) == "location:far"  # Varese, ~20 km


def test_a_comune_named_in_text_resolves_in_the_saronno_territory(ctx: FlowContext) -> None:
    assert ctx.comuni[:2] == ("Saronno", "Caronno Pertusella")
    assert ctx.places.guess_italian_comune("caronno") == "Caronno Pertusella"  # its alias
    assert ctx.places.find_comuni("turate, vicino a gerenzano") == ["Turate", "Gerenzano"]
    # The same words in the Ambito di Tradate: "caronno" is ambiguous, and Turate (a word,
    # "turate") needs a cue there.
    tradate = gazetteer(shipped_territory("tradate"))
    assert tradate.guess_italian_comune("caronno") is None
    assert tradate.find_comuni("turate, vicino a gerenzano") == ["Gerenzano"]


def test_other_public_services_give_the_saronno_comune_office(ctx: FlowContext) -> None:
    state = say(ctx, DialogueState(), "ciao", "saluto").state
    state = step(state, Turn(payload="consent:yes"), ctx).state
    out = say(ctx, state, "come pago la tari? abito a saronno", "fuori_ambito", comune="Saronno")
    text = "\n".join(r.text for r in out.replies)
    assert "Comune di Saronno" in text and "https://comune.saronno.example.org" in text


def test_the_catalogue_loader_accepts_saronno_and_rejects_tradate(config: AppConfig) -> None:
    places = config.territory.places
    assert load_path(FIXTURES / "catalog_saronno.yml", places=places).ok
    tradate = load_path(ROOT / "catalog" / "data" / "prima_infanzia.yml", places=places)
    assert not tradate.ok
    assert any("comune sconosciuto 'Tradate'" in p.message for p in tradate.problems)


def test_the_observatory_groups_by_the_saronno_comuni(config: AppConfig) -> None:
    cells = [
        Cell("prima_infanzia", "Saronno", "2026-10", 12, 8, 0),
        Cell("caregiver", "Cislago", "2026-10", 9, 6, 0),
        Cell("caregiver", "Tradate", "2026-10", 7, 7, 0),  # not of this territory
    ]
    chart = observatory_data.unmet_by_comune(cells, tuple(config.territory.comuni), k=5)
    assert chart.labels[:2] == ("Saronno", "Cislago")
    assert set(config.territory.comuni) <= set(chart.labels)
    assert "Tradate" not in chart.labels
