"""The harness itself, without Rasa: scenario files, copy matchers, catalogue facts, leaks."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from rapidfuzz import fuzz, process

from bot.settings import load_config
from catalog.matching import Match
from flows import render
from flows.copy import group, say
from nlu.training_data import read_examples
from tests.dialogue.checks import (
    BotMessage,
    Context,
    check,
    fact_patterns,
    gives_fact,
    mentioned,
    norm,
    question_keys,
    questions_asked,
    services,
    shows_category,
    split_numbered,
)
from tests.dialogue.scenario import CHANNELS, ScenarioError, load_all, parse_file

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = load_all()
COMUNI = set(load_config(ROOT / "config.yml").territory.comuni)


def test_enough_scenarios_of_every_theme() -> None:
    assert len(SCENARIOS) >= 60
    themes = Counter(s.theme for s in SCENARIOS)
    assert len(themes) >= 17, themes
    for s in SCENARIOS:
        assert 3 <= len(s.turns) <= 8, f"{s.id}: {len(s.turns)} turns"
    assert sum(len(s.channels) for s in SCENARIOS) >= 3 * 60


def test_expectations_name_real_services_categories_and_payloads() -> None:
    known = services()
    categories = set(group("categories"))
    for s in SCENARIOS:
        for n, t in enumerate(s.turns, start=1):
            where = f"{s.id} turn {n}"
            e = t.expect
            for sid in (*e.get("mentions", ()), *e.get("not_mentions", ())):
                assert sid in known, f"{where}: unknown service {sid}"
            if isinstance(e.get("about"), str) and e["about"] != "last":
                assert e["about"] in known, f"{where}: unknown service {e['about']}"
                assert fact_patterns(known[e["about"]], e["answers_about"]), (
                    f"{where}: the catalogue has no {e['answers_about']} facts for {e['about']}"
                )
            if "shows" in e:
                assert e["shows"] in categories, f"{where}: unknown category {e['shows']}"
            if t.tap and t.tap.startswith("cat:"):
                assert t.tap[4:] in categories, where
            if t.tap and t.tap.startswith("comune:"):
                assert t.tap[7:] in COMUNI, where
            if t.open:
                assert "whatsapp" not in s.channels, f"{where}: WhatsApp has no chat opening"


def test_shown_services_exist_where_the_scenario_says(tmp_path: Path) -> None:
    """A scenario expecting a service in a comune names one serving that comune."""
    for s in SCENARIOS:
        for t in s.turns:
            for sid in t.expect.get("mentions", ()):
                assert set(services()[sid].area_servita) & COMUNI, f"{s.id}: {sid}"


def test_format_errors_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("- id: x\n  turns:\n    - say: ciao\n      expect: {asks: comune, showz: x}\n")
    with pytest.raises(ScenarioError, match="showz"):
        parse_file(bad)
    bad.write_text("- id: x\n  turns:\n    - say: ciao\n      gives: [indirizzo]\n")
    with pytest.raises(ScenarioError, match="indirizzo"):
        parse_file(bad)
    bad.write_text("- id: x\n  channels: [sms]\n  turns:\n    - say: ciao\n")
    with pytest.raises(ScenarioError, match="sms"):
        parse_file(bad)


@pytest.mark.parametrize("question", sorted(question_keys()))
def test_every_question_copy_is_recognised(question: str) -> None:
    keys = question_keys()[question]
    assert keys, question
    for key in keys:
        asked = questions_asked([BotMessage("Bene.\n" + say(key, point="X", comune="Y"))])
        assert question in asked, key


def test_welcome_asks_consent_and_nothing_else() -> None:
    text = "\n\n".join(
        (say("welcome", territory="Ambito di Tradate"), say("privacy_notice", privacy_url="/p"))
    )
    assert questions_asked([BotMessage(text + "\n\n" + say("consent_question"))]) == {"consent"}
    assert questions_asked([BotMessage(say("greeting"))]) == set()


def test_suggestions_intro_and_handoff_are_recognised() -> None:
    label = group("categories")["prima_infanzia"]
    intro = [BotMessage(say("suggestions_intro", categoria=label, comune="Tradate"))]
    assert shows_category(intro, "prima_infanzia")
    assert not shows_category(intro, "extrascuola")
    ctx = Context()
    open_ = [BotMessage("*Telesoccorso*"), BotMessage(say("handoff_open", point="Social Point"))]
    assert check({"handoff": True}, open_, ctx) == []
    closed = say("handoff_closed", point="Social Point Tradate", when="domani alle 9:00")
    assert check({"handoff": True}, [BotMessage(closed)], ctx) == []
    assert check({"handoff": True}, [BotMessage("Ciao!")], ctx) != []
    emergency = [BotMessage(say("emergency")), BotMessage(say("handoff_open", point="SP"))]
    assert check({"emergency": True, "handoff": True}, emergency, ctx) == []
    assert check({"emergency": True, "handoff": True}, emergency[::-1], ctx) != []


def test_numbered_options_are_split_off() -> None:
    assert split_numbered("Va bene per te?\n\n1. Sì, va bene\n2. No, grazie") == (
        "Va bene per te?",
        ("Sì, va bene", "No, grazie"),
    )
    assert split_numbered("Orari:\n\n1. lunedì\n3. mercoledì")[1] == ()
    assert split_numbered("Nessuna opzione") == ("Nessuna opzione", ())


def test_the_longest_service_name_wins() -> None:
    text = "*Pasti a domicilio a Castiglione Olona e Gornate Olona*\n...\n*Telesoccorso*"
    assert mentioned(text) == ["pasti-domicilio-castiglione-olona", "telesoccorso-ambito"]
    assert mentioned("*Pasti a domicilio*\nUn pranzo caldo") == ["pasti-domicilio-tradate"]


@pytest.mark.parametrize("sid", sorted(services()))
def test_facts_are_found_in_the_apps_own_card(sid: str) -> None:
    """The card the flow renders gives cost, place, hours and contacts: the harness must
    recognise them there (else `answers_about` would judge wrongly)."""
    service = services()[sid]
    card = render.match_card(Match(service=service, score=0.0, reasons=(), checks=()))
    for topic in ("cost", "where", "hours", "contacts"):
        if topic == "hours" and not (service.orari and service.orari.fasce):
            continue
        assert gives_fact(card, service, topic), f"{sid}: {topic} not recognised in\n{card}"
    other = "Ciao! Posso fare altro per te?"
    assert not gives_fact(other, service, "cost") and not gives_fact(other, service, "contacts")


def test_references_resolve_by_position_name_and_focus() -> None:
    ctx = Context()
    page = [
        BotMessage(say("suggestions_intro", categoria="X", comune="Tradate")),
        BotMessage("*Telesoccorso*\n💶 15 € al mese"),
        BotMessage("*Pasti a domicilio*\n💶 6,50 € a pasto"),
    ]
    check({}, page, ctx)
    assert ctx.page == ["telesoccorso-ambito", "pasti-domicilio-tradate"]
    answer = [BotMessage("Costa 6,50 € a pasto.")]
    assert check({"answers_about": "cost", "about": 2}, answer, ctx) == []
    assert check({"answers_about": "cost", "about": 1}, answer, ctx) != []
    assert ctx.focus == "telesoccorso-ambito"
    ctx.focus = None
    assert check({"answers_about": "cost"}, answer, ctx) == []  # implicit: any shown one
    assert ctx.focus == "pasti-domicilio-tradate"
    phone = [BotMessage("Il numero è 0331 826 840.")]
    assert check({"answers_about": "contacts"}, phone, ctx) == []  # the focus: pasti


def _nlu_sentences() -> list[str]:
    texts = [
        e.text for p in sorted((ROOT / "nlu" / "data").glob("*.yml")) for e in read_examples(p)
    ]
    texts += [e.text for e in read_examples(ROOT / "nlu" / "heldout" / "test.yml")]
    external = Path("/work/shared/eval/external_it.jsonl")
    if external.exists():
        for line in external.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(str(json.loads(line)["text"]))
    return [norm(t) for t in texts]


def test_no_sentence_comes_from_the_nlu_training_or_test_sets() -> None:
    """Scenarios must measure the NLU on new text, not on what it was trained or tested on."""
    corpus = _nlu_sentences()
    assert corpus
    leaks = []
    for s in SCENARIOS:
        for t in s.turns:
            if t.say is None or len(t.say.split()) < 4:
                continue  # "si", "tradate", "4 anni": everyone writes those
            best = process.extractOne(norm(t.say), corpus, scorer=fuzz.ratio, score_cutoff=88)
            if best is not None:
                leaks.append(f"{s.id}: {t.say!r} ~ {best[0]!r} ({best[1]:.0f})")
    assert not leaks, "\n".join(leaks)


def test_channels_are_known() -> None:
    assert all(set(s.channels) <= set(CHANNELS) for s in SCENARIOS)
