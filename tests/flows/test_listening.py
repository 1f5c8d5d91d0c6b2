"""The conversation listens: slots from any message, bare answers, repair, follow-ups."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from flows.copy import say
from flows.dialogue import step
from flows.state import DialogueState, Step
from flows.turn import (
    FirstMessageKept,
    HandoffRequested,
    NeedRecorded,
    Outcome,
    Turn,
    command_payload,
)
from nlu.types import Entity, ParseResult
from tests.flows.conftest import Convo, payloads, text_of


def test_what_was_said_before_consent_is_used_after_yes() -> None:
    convo = Convo()
    out = convo.send(
        "buongiorno, cerco un nido per mia figlia di 2 anni, abitiamo a Tradate",
        "bisogno_prima_infanzia",
        comune="Tradate",
        eta=2.0,
        familiare="figlia",
    )
    assert say("consent_question") in text_of(out)
    assert convo.state.intake is not None and convo.state.intake.need.eta == [2.0]
    out = convo.tap("consent:yes")
    assert convo.state.step is Step.SUGGESTED  # nothing asked again
    assert "Tradate" in text_of(out)
    assert convo.state.intake is None
    first = FirstMessageKept(
        "buongiorno, cerco un nido per mia figlia di 2 anni, abitiamo a Tradate"
    )
    assert first in convo.events
    assert NeedRecorded("prima_infanzia", "Tradate", (2.0,), "figlia", True) in convo.events


def test_several_children_months_and_comune_before_consent() -> None:
    convo = Convo()
    text = "ho due figli di 6 e 11 anni, a luglio dove li mando? siamo di lonate ceppino"
    convo.send(text, "bisogno_chiusure_scolastiche", comune="Lonate Ceppino", eta=[6.0, 11.0])
    convo.tap("consent:yes")
    need = convo.state.need
    assert (need.categoria, need.comune, need.eta, need.mesi) == (
        "chiusure_scolastiche",
        "Lonate Ceppino",
        [6.0, 11.0],
        [7],
    )
    assert convo.state.step in {Step.SUGGESTED, Step.OFFER_OPERATOR}


def test_the_intake_expires_after_30_minutes() -> None:
    convo = Convo()
    convo.send("nido a tradate per la bimba di 1 anno", "bisogno_prima_infanzia", eta=1.0)
    convo.ctx = replace(convo.ctx, now=convo.ctx.now + timedelta(minutes=31))
    convo.tap("consent:yes")
    assert convo.state.need.eta == []
    assert not any(isinstance(e, FirstMessageKept) for e in convo.events)


def test_consent_refused_still_gets_general_information() -> None:
    convo = Convo()
    convo.send("cerco un nido a Tradate per mio figlio di 2 anni", "bisogno_prima_infanzia",
               comune="Tradate", eta=2.0)  # fmt: skip
    out = convo.tap("consent:no")
    text = text_of(out)
    assert convo.state.intake is None and convo.state.need.eta == []
    assert "Social Point Tradate" in text and "0331 826 811" in text  # the contacts
    assert convo.state.step is Step.SUGGESTED  # and the services, without personal details
    recorded = [e for e in convo.events if isinstance(e, NeedRecorded)]
    assert recorded and recorded[0].eta == ()


def test_bare_number_answers_the_age_question_not_the_button() -> None:
    convo = Convo().consented()
    convo.send("cerco un nido a Tradate", "bisogno_prima_infanzia", comune="Tradate")
    assert convo.state.step is Step.ASK_AGE
    convo.send("1", "fornisci_info", confidence=0.3)  # "1. Non lo so" is also on screen
    assert convo.state.need.eta == [1.0] and not convo.state.need.eta_unknown
    assert convo.state.step in {Step.SUGGESTED, Step.OFFER_OPERATOR}


def test_ages_in_words_and_halves_when_asked() -> None:
    convo = Convo().consented()
    convo.send("post scuola a vedano", "bisogno_extrascuola", comune="Vedano Olona")
    convo.send("7 anni e mezzo", None, confidence=0.2)
    assert convo.state.need.eta == [7.5]


def test_bare_comune_name_answers_the_comune_question() -> None:
    convo = Convo().consented()
    convo.send("mia mamma ha bisogno di aiuto in casa", "bisogno_domiciliarita", familiare="madre")
    assert convo.state.step is Step.ASK_COMUNE
    out = convo.send("gornate", "fuori_ambito", confidence=0.4)
    assert convo.state.need.comune == "Gornate Olona"
    assert "Gornate Olona" in text_of(out)


def test_dont_know_skips_the_age_question() -> None:
    convo = Convo().consented()
    convo.send("centro estivo a tradate", "bisogno_chiusure_scolastiche", comune="Tradate")
    convo.send("non lo so", "negazione")
    assert convo.state.need.eta_unknown
    assert convo.state.step in {Step.SUGGESTED, Step.OFFER_OPERATOR}


def test_correction_while_the_age_is_asked_is_said_and_the_question_asked_again() -> None:
    convo = Convo().consented()
    convo.send("nido a venegono superiore", "bisogno_prima_infanzia", comune="Venegono Superiore")
    out = convo.send("scusa, volevo dire venegono inferiore", "fornisci_info",
                     comune="Venegono Inferiore")  # fmt: skip
    text = text_of(out)
    assert convo.state.need.comune == "Venegono Inferiore"
    assert "correggo" in text.lower() and "Venegono Inferiore" in text
    assert convo.state.step is Step.ASK_AGE


def test_age_correction_after_the_suggestions_redoes_the_search() -> None:
    convo = Convo().consented()
    convo.send("post scuola a tradate per mio figlio di 8 anni", "bisogno_extrascuola",
               comune="Tradate", eta=8.0)  # fmt: skip
    assert convo.state.step is Step.SUGGESTED
    out = convo.send("no, ne ha 12", "negazione")
    assert convo.state.need.eta == [12.0]
    assert "correggo" in text_of(out).lower() and "12 anni" in text_of(out)
    assert say("suggestions_intro", categoria="Pre e post scuola, compiti", comune="Tradate") in (
        text_of(out)
    )


def test_digression_gets_an_answer_then_the_pending_question() -> None:
    convo = Convo().consented()
    convo.send("cerco un nido a tradate", "bisogno_prima_infanzia", comune="Tradate")
    out = convo.send("ma è gratis?", "chiedi_contributi")
    assert say("followup.not_yet") in text_of(out)
    assert out.replies[-1].text == say("ask_age.prima_infanzia")
    assert payloads(out) == ["eta:unknown"]  # the question's button, once
    assert convo.state.step is Step.ASK_AGE


def test_hours_digression_keeps_the_question() -> None:
    convo = Convo().consented()
    convo.send("aiuto per mio papà anziano", "bisogno_domiciliarita", familiare="padre")
    out = convo.send("quando siete aperti?", "orari_sedi")
    assert "Social Point Tradate" in text_of(out)
    assert out.replies[-1].text == say("ask_comune")
    assert convo.state.step is Step.ASK_COMUNE


def suggested_nurseries() -> Convo:
    convo = Convo().consented()
    convo.send("nido a tradate per la bimba di 1 anno", "bisogno_prima_infanzia",
               comune="Tradate", eta=1.0)  # fmt: skip
    assert convo.state.step is Step.SUGGESTED and len(convo.state.page) >= 2
    return convo


def test_cost_of_the_second_service() -> None:
    convo = suggested_nurseries()
    second = convo.ctx.catalog.service(convo.state.page[1])
    assert second is not None
    out = convo.send("quanto costa il secondo?", "fuori_ambito")
    assert second.nome in text_of(out)
    assert convo.state.focus == second.id
    out = convo.send("e come si fa domanda?", "fuori_ambito")  # implicit: the same one
    assert second.nome in text_of(out) and second.accesso.passi[0] in text_of(out)


def test_saturday_question_answers_from_the_opening_hours() -> None:
    convo = suggested_nurseries()
    out = convo.send("ma il sabato ci sono?", "orari_sedi")
    text = text_of(out)
    assert "sabato" in text and ("chiuso" in text or "aperto" in text)
    assert "Social Point" not in text  # about the services, not the Social Point


def test_service_by_name_and_contacts() -> None:
    convo = Convo().consented()
    convo.send("mia madre vive sola a tradate, vorrei il telesoccorso", "bisogno_domiciliarita",
               comune="Tradate", familiare="madre")  # fmt: skip
    tele = convo.ctx.catalog.service("telesoccorso-ambito")
    assert tele is not None and tele.id in convo.state.page
    out = convo.send("qual è il numero del telesoccorso?", "fuori_ambito")
    assert tele.nome in text_of(out)
    assert tele.contatti.telefono and tele.contatti.telefono in text_of(out)


def test_the_other_child_gets_its_own_search() -> None:
    convo = Convo().consented()
    convo.send("centri estivi a tradate per i miei figli di 4 e 11 anni",
               "bisogno_chiusure_scolastiche", comune="Tradate", eta=[4.0, 11.0])  # fmt: skip
    out = convo.send("e per quello di 11?", "fornisci_info", confidence=0.4)
    assert convo.state.need.focus == [11.0]
    assert convo.state.need.eta == [4.0, 11.0]
    recorded = [e for e in convo.events if isinstance(e, NeedRecorded)]
    assert recorded[-1].eta == (11.0,)
    assert "*" in text_of(out)  # service cards again


def test_telegram_start_with_or_without_deep_link_opens_with_the_welcome() -> None:
    for text in ("/start", "/start campagna-nidi", "/start@NomeBot"):
        payload = command_payload(text)
        assert payload == "menu:restart"
        convo = Convo()
        out = convo.tap(payload)
        assert say("consent_question") in text_of(out) and convo.state.step is Step.CONSENT
    assert command_payload("ricominciamo da capo") == "menu:restart"
    assert command_payload("stop") == "menu:stop"


def test_web_chat_opening_shows_the_welcome_or_the_pending_question() -> None:
    convo = Convo()
    out = convo.tap("menu:open")
    assert say("consent_question") in text_of(out)
    convo.tap("consent:yes")
    convo.send("cerco un nido", "bisogno_prima_infanzia")
    out = convo.tap("menu:open")
    assert out.replies[-1].text == say("ask_comune")


def test_two_misunderstandings_on_the_same_question_offer_a_person() -> None:
    convo = Convo().consented()
    convo.send("cerco un nido", "bisogno_prima_infanzia")
    convo.send("asdfg", None, confidence=0.1)
    out = convo.send("qwerty", None, confidence=0.1)
    assert convo.state.step is Step.OFFER_OPERATOR
    assert payloads(out) == ["yes", "no"]
    convo.tap("yes")
    assert any(isinstance(e, HandoffRequested) for e in convo.events)


def test_schedule_said_in_passing_reaches_the_matching() -> None:
    convo = Convo().consented()
    convo.send("cerco il post scuola a tradate, esco dal lavoro alle 18:30 e faccio i turni",
               "bisogno_extrascuola", comune="Tradate", eta=8.0)  # fmt: skip
    need = convo.state.need
    assert need.orario == "18:30" and need.vincoli == ["turni"]


def test_activity_period_reads_as_italian() -> None:
    convo = Convo().consented()
    out = convo.send("centro estivo a tradate per mio figlio di 8 anni",
                     "bisogno_chiusure_scolastiche", comune="Tradate", eta=8.0)  # fmt: skip
    text = text_of(out)
    assert "dal giugno" not in text and "al agosto" not in text
    assert "da giugno ad agosto" in text or "a luglio" in text or "dal " in text


def test_municipal_questions_get_the_comune_office() -> None:
    convo = Convo().consented()
    out = convo.send("come pago la tari? abito a tradate", "fuori_ambito", comune="Tradate")
    text = text_of(out)
    assert "Comune di Tradate" in text and "https://www.comune.tradate.va.it" in text
    assert "non posso aiutarti" in text  # and it says this is the comune's job, not ours


def test_municipal_question_without_comune_lists_every_office() -> None:
    out = Convo().send("dove si rinnova la carta d'identita?", "fuori_ambito")
    text = text_of(out)
    assert text.count("https://www.comune.") == 8


def test_municipal_question_while_a_question_is_pending_keeps_it() -> None:
    convo = Convo().consented()
    convo.send("cerco un nido", "bisogno_prima_infanzia")
    out = convo.send("e per la raccolta differenziata a chi chiedo?", "fuori_ambito")
    assert out.replies[-1].text == say("ask_comune")


def test_a_need_ranked_close_behind_a_data_point_reading_is_heard() -> None:
    text = "ho due figli di 6 e 11 anni, a luglio dove li mando? siamo di lonate ceppino"
    parse = ParseResult(
        text=text,
        intent="fornisci_info",
        confidence=0.6,
        entities=(Entity("eta", 6.0), Entity("eta", 11.0), Entity("comune", "Lonate Ceppino")),
        ranking=(("fornisci_info", 0.6), ("bisogno_chiusure_scolastiche", 0.15)),
    )
    convo = Convo()
    out = step_with(convo, Turn(text=text, parse=parse))
    assert say("consent_question") in text_of(out)
    assert convo.state.need.categoria == "chiusure_scolastiche"


def test_summer_months_for_school_children_mean_a_summer_camp() -> None:
    convo = Convo().consented()
    convo.send("a luglio e agosto con i bimbi di 7 e 9 anni come faccio?", "fornisci_info",
               eta=[7.0, 9.0])  # fmt: skip
    assert convo.state.need.categoria == "chiusure_scolastiche"
    assert convo.state.step in {Step.ASK_COMUNE, Step.SUGGESTED}


def step_with(convo: Convo, turn: Turn) -> Outcome:
    out = step(convo.state, turn, convo.ctx)
    convo.state = DialogueState.load(out.state.dump())
    return out


def test_forged_button_payloads_are_not_understood() -> None:
    convo = Convo().consented()
    convo.send("cerco un nido", "bisogno_prima_infanzia")
    convo.tap('comune:=HYPERLINK("https://example.org")')
    assert convo.state.need.comune is None and convo.state.step is Step.ASK_COMUNE
    convo.tap("cat:zzz")
    assert convo.state.need.categoria == "prima_infanzia"


def test_yes_with_thanks_answers_the_consent_question() -> None:
    convo = Convo()
    convo.send("cerco un nido a tradate", "bisogno_prima_infanzia", comune="Tradate")
    convo.send("si grazie", "ringraziamento", confidence=0.5)
    assert convo.state.consent is True


def test_asking_for_a_person_first_gets_the_consent_question_then_the_person() -> None:
    convo = Convo()
    out = convo.send("voglio parlare con qualcuno", "richiesta_operatore")
    assert say("consent_question") in text_of(out)
    convo.tap("consent:yes")
    assert convo.state.step is Step.HUMAN
    assert any(isinstance(e, HandoffRequested) and e.reason == "richiesta" for e in convo.events)


def test_a_child_not_mentioned_before_gets_a_search_too() -> None:
    convo = Convo().consented()
    convo.send("centro estivo a castiglione olona per il mio piccolo di 4 anni",
               "bisogno_chiusure_scolastiche", comune="Castiglione Olona", eta=4.0)  # fmt: skip
    convo.send("e per quello di 11?", "fornisci_info", confidence=0.55)
    assert convo.state.need.focus == [11.0] and convo.state.need.eta == [4.0, 11.0]
    recorded = [e for e in convo.events if isinstance(e, NeedRecorded)]
    assert recorded[-1].eta == (11.0,)


def test_a_name_with_a_digit_is_a_name_not_a_position() -> None:
    convo = Convo().consented()
    convo.send("assisto mio padre non autosufficiente a venegono inferiore, ci sono aiuti?",
               "bisogno_caregiver", comune="Venegono Inferiore", familiare="padre")  # fmt: skip
    convo.tap("menu:more")
    b2 = convo.ctx.catalog.service("misura-b2-ambito-tradate")
    assert b2 is not None and b2.id in convo.state.shown
    out = convo.send("chi puo chiedere la misura b2?", "bisogno_caregiver")
    assert text_of(out).startswith(b2.nome)
