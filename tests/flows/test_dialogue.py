"""Scripted multi-turn conversations over the pure flow (fake parses, seed catalogue)."""

from __future__ import annotations

from dataclasses import replace

from catalog.matching import CatalogIndex
from flows.state import Step
from flows.turn import (
    CallbackRequested,
    EraseRequested,
    HandoffCancelled,
    HandoffRequested,
    NeedRecorded,
    Rated,
    UnsubscribeRequested,
)
from nlu.types import ParseStatus
from tests.flows.conftest import CLOSED, Convo, catalogue, context, payloads, text_of


def test_first_contact_welcome_privacy_and_consent(convo: Convo) -> None:
    out = convo.send("cerco un nido a Tradate", "bisogno_prima_infanzia", comune="Tradate")
    text = text_of(out)
    assert "Rete di Conciliazione" in text and "https://example.org/privacy" in text
    assert payloads(out) == ["consent:yes", "consent:no"]
    assert convo.state.step is Step.CONSENT
    assert convo.state.need.categoria == "prima_infanzia"


def test_happy_path_asks_only_what_is_missing_then_suggests(convo: Convo) -> None:
    convo.send("cerco un nido a Tradate", "bisogno_prima_infanzia", comune="Tradate")
    out = convo.tap("consent:yes")
    assert convo.state.step is Step.ASK_AGE  # comune already known: not asked again
    assert "anni" in text_of(out)
    out = convo.send("ha 18 mesi", "fornisci_info", eta=1.5)
    assert convo.state.step is Step.SUGGESTED
    text = text_of(out).lower()
    assert "nido" in text and "tradate" in text
    assert "📍" in text and "💶" in text  # where and how much, at a glance
    assert {"menu:more", "menu:operator", "menu:other", "menu:done"} <= set(payloads(out))
    cards = [r for r in out.replies if r.text.startswith("*")]
    assert 1 <= len(cards) <= 3
    assert NeedRecorded("prima_infanzia", "Tradate", (1.5,), None, True) in convo.events


def test_more_options_page_without_repeats_until_exhausted() -> None:
    base = next(e for e in catalogue().entries("extrascuola"))
    services = [base.service.model_copy(update={"id": f"post-scuola-{i}"}) for i in range(5)]
    convo = Convo(ctx=replace(context(), catalog=CatalogIndex(services))).consented()
    comune = base.service.area_servita[0]
    convo.send("post scuola", "bisogno_extrascuola", comune=comune, eta=8.0)
    assert len(convo.state.shown) == 3
    convo.tap("menu:more")
    assert sorted(convo.state.shown) == [f"post-scuola-{i}" for i in range(5)]
    out = convo.tap("menu:more")
    assert "Non ho altre" in text_of(out)


def test_out_of_order_answers_and_corrections() -> None:
    convo = Convo().consented()
    out = convo.send("abito a Vedano", "fornisci_info", comune="Vedano Olona")
    assert convo.state.need.comune == "Vedano Olona"
    assert convo.state.step is Step.ASK_CATEGORY  # the comune is kept for later
    convo.send("mi serve il post scuola", "bisogno_extrascuola", eta=7.0)
    assert convo.state.step is Step.SUGGESTED  # nothing missing: no question asked
    out = convo.send("no scusa abito a Tradate", "fornisci_info", comune="Tradate")
    assert convo.state.need.comune == "Tradate"
    assert "Tradate" in text_of(out)


def test_dont_know_the_age_is_accepted() -> None:
    convo = Convo().consented()
    convo.send("cerco un nido", "bisogno_prima_infanzia")
    convo.tap("comune:Castiglione Olona")
    assert convo.state.step is Step.ASK_AGE
    convo.tap("eta:unknown")
    assert convo.state.step in {Step.SUGGESTED, Step.OFFER_OPERATOR}


def test_unknown_comune_answer_asks_again_with_buttons() -> None:
    convo = Convo().consented()
    convo.send("cerco aiuto per mia mamma anziana", "bisogno_domiciliarita", familiare="madre")
    out = convo.send("qwerty", None, confidence=0.2)
    assert convo.state.step is Step.ASK_COMUNE
    assert "comune:Tradate" in payloads(out)


def test_dont_know_the_comune_searches_the_whole_territory() -> None:
    convo = Convo().consented()
    convo.send("cerco aiuto per mia mamma anziana", "bisogno_domiciliarita", familiare="madre")
    out = convo.send("boh non lo so", None, confidence=0.2)
    assert convo.state.step is Step.SUGGESTED
    assert "Ambito di Tradate" in text_of(out)


def test_numbered_answer_presses_the_button() -> None:
    convo = Convo().consented()
    convo.send("cerco un nido", "bisogno_prima_infanzia")
    buttons = list(convo.state.buttons)
    convo.send("2", "fornisci_info")
    assert convo.state.need.comune == buttons[1].payload.split(":", 1)[1]


def test_several_needs_in_one_message_are_queued() -> None:
    convo = Convo().consented()
    from flows.turn import Turn
    from tests.flows.conftest import parsed

    parse = parsed(
        "nido per il piccolo e centro estivo per la grande",
        "bisogno_prima_infanzia",
        0.6,
        comune="Tradate",
    )
    parse = type(parse)(
        text=parse.text,
        intent=parse.intent,
        confidence=0.6,
        entities=parse.entities,
        status=ParseStatus.OK,
        ranking=(("bisogno_prima_infanzia", 0.6), ("bisogno_chiusure_scolastiche", 0.35)),
    )
    from flows.dialogue import step

    outcome = step(convo.state, Turn(text=parse.text, parse=parse), convo.ctx)
    assert outcome.state.queued == ["chiusure_scolastiche"]


def test_no_match_offers_an_operator_and_records_the_unmet_need() -> None:
    convo = Convo().consented()
    out = convo.send("cerco un nido a Varese", "bisogno_prima_infanzia", comune="Varese", eta=1.0)
    assert convo.state.step is Step.OFFER_OPERATOR
    assert payloads(out) == ["yes", "no"]
    assert NeedRecorded("prima_infanzia", "Varese", (1.0,), None, False) in convo.events
    convo.send("si", "affermazione")
    assert convo.state.step is Step.HUMAN
    assert any(
        isinstance(e, HandoffRequested) and e.reason == "nessun_servizio" for e in convo.events
    )


def test_operator_request_queues_and_bot_goes_silent() -> None:
    convo = Convo().consented()
    convo.send("cerco un nido a Tradate", "bisogno_prima_infanzia", comune="Tradate", eta=2.0)
    out = convo.send("voglio parlare con una persona", "richiesta_operatore")
    assert "Social Point Tradate" in text_of(out)
    assert HandoffRequested("richiesta", "tradate", False, True) in convo.events
    out = convo.send("ci sei?", "saluto")
    assert out.replies == ()  # the human holds the conversation


def test_out_of_hours_offers_a_callback() -> None:
    convo = Convo(ctx=context(CLOSED)).consented()
    convo.send("abito a Vedano", "fornisci_info", comune="Vedano Olona")
    out = convo.send("posso parlare con un operatore?", "richiesta_operatore")
    assert "chiuso" in text_of(out) and "riapre" in text_of(out)
    assert convo.state.step is Step.OFFER_CALLBACK
    convo.tap("yes")
    out = convo.send("333 123 4567")
    assert CallbackRequested("3331234567") in convo.events
    assert convo.state.step is Step.HUMAN


def test_invalid_phone_is_asked_again() -> None:
    convo = Convo(ctx=context(CLOSED)).consented()
    convo.send("operatore", "richiesta_operatore")
    convo.tap("yes")
    convo.send("chiamatemi domani")
    assert convo.state.step is Step.ASK_PHONE


def test_emergency_gives_numbers_first_then_priority_handoff(convo: Convo) -> None:
    out = convo.send("mio marito mi picchia", "emergenza")
    assert "112" in out.replies[0].text and "1522" in out.replies[0].text
    assert HandoffRequested("emergenza", "tradate", True, True) in convo.events
    assert convo.state.step is Step.HUMAN


def test_emergency_out_of_hours_is_still_a_priority_handoff() -> None:
    convo = Convo(ctx=context(CLOSED))
    out = convo.send("non voglio piu vivere", "emergenza")
    assert "112" in text_of(out)
    assert any(isinstance(e, HandoffRequested) and e.priority for e in convo.events)


def test_two_misunderstandings_offer_an_operator() -> None:
    convo = Convo().consented()
    convo.send("asdfgh", None, confidence=0.1)
    out = convo.send("qwerty", None, confidence=0.1)
    assert convo.state.step is Step.OFFER_OPERATOR and payloads(out) == ["yes", "no"]
    convo.tap("yes")
    assert any(isinstance(e, HandoffRequested) and e.reason == "non_capito" for e in convo.events)


def test_operator_closed_then_rating() -> None:
    from flows.handoff import operator_closed

    convo = Convo().consented()
    convo.send("operatore", "richiesta_operatore")
    out = operator_closed(convo.state)
    convo.state = out.state
    assert payloads(out) == [f"rating:{n}" for n in range(1, 6)]
    convo.tap("rating:4")
    assert Rated(4) in convo.events


def test_degraded_mode_keeps_serving_with_buttons() -> None:
    convo = Convo().consented()
    out = convo.send("cerco qualcosa per mio figlio", status=ParseStatus.UNAVAILABLE)
    assert "cat:prima_infanzia" in payloads(out)
    convo.tap("cat:extrascuola")
    assert convo.state.step is Step.ASK_COMUNE
    out = convo.send("Gornate", status=ParseStatus.UNAVAILABLE, comune="Gornate Olona")
    assert convo.state.need.comune == "Gornate Olona"


def test_no_consent_still_gives_general_information() -> None:
    convo = Convo()
    convo.send("cerco un centro estivo a tradate", "bisogno_chiusure_scolastiche", comune="Tradate")
    out = convo.tap("consent:no")
    assert convo.state.consent is False
    assert convo.state.step is Step.SUGGESTED  # no questions about the family
    assert "centro" in text_of(out).lower() or "campus" in text_of(out).lower()
    stored = convo.state.without_personal_data()
    assert stored.need.eta == [] and stored.need.familiare is None


def test_erase_asks_confirmation_then_erases() -> None:
    convo = Convo().consented()
    convo.send("cancella i miei dati", "cancellazione_dati")
    assert convo.state.step is Step.CONFIRM_ERASE
    convo.tap("yes")
    assert EraseRequested() in convo.events
    assert convo.state.step is Step.START


def test_erase_can_be_cancelled() -> None:
    convo = Convo().consented()
    convo.send("cancella i miei dati", "cancellazione_dati")
    convo.tap("no")
    assert EraseRequested() not in convo.events


def test_commands_work_everywhere() -> None:
    convo = Convo().consented()
    convo.send("operatore", "richiesta_operatore")
    assert convo.state.step is Step.HUMAN
    convo.tap("menu:restart")
    assert HandoffCancelled() in convo.events and convo.state.step is Step.ASK_CATEGORY
    out = convo.tap("menu:stop")
    assert UnsubscribeRequested() in convo.events and "non ti manderò" in text_of(out).lower()
    out = convo.tap("menu:hours")
    assert "Social Point Vedano Olona" in text_of(out)
    out = convo.tap("menu:help")
    assert "assistente" in text_of(out).lower()


def test_out_of_scope_is_not_forced_into_a_need() -> None:
    convo = Convo().consented()
    out = convo.send("chi vince stasera?", "fuori_ambito")
    assert "non posso aiutarti" in text_of(out).lower()
    assert convo.state.need.categoria is None


def test_state_survives_a_restart_round_trip() -> None:
    convo = Convo().consented()
    convo.send("cerco un nido", "bisogno_prima_infanzia")
    from flows.state import DialogueState

    assert DialogueState.load(convo.state.dump()) == convo.state
    assert DialogueState.load({"step": "no-such-step"}) == DialogueState()


def test_location_outside_the_territory_asks_the_comune() -> None:
    convo = Convo().consented()
    convo.send("cerco un nido", "bisogno_prima_infanzia")
    out = convo.tap("location:far")
    assert convo.state.step is Step.ASK_COMUNE and convo.state.misses == 0
    assert "comune:Tradate" in payloads(out)


def test_errands_for_an_older_relative_are_help_at_home() -> None:
    """Time-saving services are for the resident's own time; the same errands for a parent or
    grandparent are help at home, in a new need after consent as in the first message."""
    convo = Convo().consented()
    convo.send(
        "la spesa per mio papa a tradate", "bisogno_salvatempo", familiare="padre", comune="Tradate"
    )
    assert convo.state.need.categoria == "domiciliarita"
    convo = Convo().consented()
    convo.send(
        "la spesa, io lavoro fino a tardi, a tradate", "bisogno_salvatempo", comune="Tradate"
    )
    assert convo.state.need.categoria == "salvatempo"
    convo = Convo().consented()
    convo.send(
        "la spesa per mio figlio a tradate",
        "bisogno_salvatempo",
        familiare="figlio",
        comune="Tradate",
    )
    assert convo.state.need.categoria == "salvatempo"
