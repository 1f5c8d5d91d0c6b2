"""Reading the need's slots from any message, in any order, in the context of the question.

The NLU gives comune, ages and family member; this module adds what the taxonomy has no
entity for (months, working hours, schedule constraints), reads bare answers in the
context of the pending question ("4" to "quanti anni ha?", "gornate" to "in quale comune?",
"non lo so" to either) and reports which known values a message changed, so the flow can
say so and redo the search.
"""

from __future__ import annotations

import re

from catalog.vocab import MESI
from flows.lexicon import pattern, says
from flows.state import DialogueState, Need, Step
from flows.turn import NEED_PREFIX, Change, Turn
from nlu.comuni import Gazetteer, is_comune
from nlu.entities import parse_ages
from nlu.text import normalise

SUMMER = (6, 7, 8)
SCHEDULE = ("turni", "mattina_presto", "sabato", "sera")


_MONTH_RE = re.compile(r"(?<![a-z])(" + "|".join(MESI) + r")(?![a-z])")


def months(text: str) -> list[int]:
    """Months named in the text ("a luglio e agosto" -> [7, 8]; "d'estate" -> [6, 7, 8])."""
    norm = normalise(text)
    found = [MESI.index(m) + 1 for m in _MONTH_RE.findall(norm)]
    if not found and pattern("schedule.estate").search(norm):
        found = list(SUMMER)
    return sorted(set(found))


def until(text: str) -> str | None:
    """The time a service is needed until: "esco alle 18", "fino alle 18:30" -> "18:30"."""
    m = pattern("schedule.until").search(normalise(text))
    if not m:
        return None
    hour, minutes, half = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if half:
        minutes = 15 if "quarto" in half else 30
    if hour <= 8:  # "esco alle 6" is in the evening for a working parent
        hour += 12
    return f"{hour:02d}:{minutes:02d}" if hour < 24 and minutes < 60 else None


def schedule(text: str) -> list[str]:
    """Schedule constraints named in the text (turni, mattina_presto, sabato, sera)."""
    norm = normalise(text)
    return [c for c in SCHEDULE if pattern(f"schedule.{c}").search(norm)]


def _contextual_comune(state: DialogueState, turn: Turn, places: Gazetteer) -> str | None:
    """A bare place name answering "in quale comune abiti?" ("gornate", "lonate c.")."""
    if state.step is not Step.ASK_COMUNE or not turn.text or len(turn.text) > 60:
        return None
    return places.guess_italian_comune(turn.text)


def _contextual_ages(state: DialogueState, turn: Turn) -> list[float]:
    """Ages from a bare answer: to the age question, or a correction of a known age."""
    text = turn.text or ""
    if state.step is Step.ASK_AGE and len(text) <= 80:
        return parse_ages(text)
    if state.need.eta and re.search(r"(?<![a-z])(?:ne )?ha(?:nno)? \d", normalise(text)):
        return parse_ages(text)  # "no, ne ha 12"
    return []


def read(state: DialogueState, turn: Turn, places: Gazetteer) -> tuple[Need, tuple[Change, ...]]:
    """The need with what this message says, and what changed; the latest answer wins.

    Args:
        state: the conversation before the message (its step gives bare answers a meaning).
        turn: the message.
        places: how the territory names its comuni (`FlowContext.places`).

    Returns:
        The updated need and the changes (empty when the message said nothing new).
    """
    need = state.need
    update: dict[str, object] = {}
    if (comune := turn.payload_value("comune")) and is_comune(comune):  # not a forged payload
        update["comune"] = comune
    if turn.payload == "eta:unknown" or (state.step is Step.ASK_AGE and says("skip", turn.text)):
        update["eta_unknown"] = True
    if state.step is Step.ASK_COMUNE and says("skip", turn.text):
        update["comune_unknown"] = True
    ages: list[float] = []
    if turn.parse:
        comuni = turn.parse.values("comune")
        ages = [float(a) for a in turn.parse.values("eta")]
        familiari = turn.parse.values("familiare")
        if comuni:
            update["comune"] = str(comuni[-1])
        if familiari:
            update["familiare"] = str(familiari[0])
    if "comune" not in update and (comune := _contextual_comune(state, turn, places)):
        update["comune"] = comune
    ages = ages or _contextual_ages(state, turn)
    if ages:
        # "ho anche una bimba di 3": another child; otherwise the new ages replace the old.
        more = state.step is not Step.ASK_AGE and says("also", turn.text)
        update["eta"] = sorted({*need.eta, *ages}) if more else ages
        update["focus"] = []
    elif pointed := focus_age(need, turn.text):
        update["focus"] = pointed  # "e per quello di 11?": another child, maybe a new one
        if not set(pointed) <= set(need.eta):
            update["eta"] = sorted({*need.eta, *pointed})
    if turn.text:
        if found := months(turn.text):
            update["mesi"] = found
        if (hour := until(turn.text)) is not None:
            update["orario"] = hour
        if constraints := schedule(turn.text):
            update["vincoli"] = sorted({*need.vincoli, *constraints})
    if need.categoria is None and (hint := hinted_category(turn, need.model_copy(update=update))):
        update["categoria"] = hint
    changes = tuple(
        Change(slot, getattr(need, slot), value)
        for slot, value in update.items()
        if getattr(need, slot) != value
        and slot not in {"eta_unknown", "comune_unknown"}
        and not (slot == "focus" and not update["focus"])
    )
    skipped = any(getattr(need, k) != v for k, v in update.items() if k.endswith("_unknown"))
    if not changes and not skipped:
        return need, ()
    new = need.model_copy(update=update)
    return new, changes or (Change("skip", False, True),)


HINT = 0.10  # a need this likely, under a "just a data point" reading, is the need
SCHOOL_AGES = (3.0, 14.0)


def hinted_category(turn: Turn, need: Need) -> str | None:
    """The need a message implies when the NLU's first reading is not a need.

    "ho due figli di 6 e 11 anni, a luglio dove li mando?" reads as `fornisci_info` first,
    with the summer camps close behind; a human would hear the need. Two signals: a need
    ranked close behind a data-point or low-confidence reading, and summer months for
    school-age children.
    """
    intent = turn.intent or ""
    if intent.startswith(NEED_PREFIX) or turn.parse is None:
        return None
    data_point = turn.parse.intent == "fornisci_info" or intent == ""
    if data_point:
        needs = [(n, c) for n, c in turn.parse.ranking if n.startswith(NEED_PREFIX)]
        if needs and needs[0][1] >= HINT:
            return needs[0][0].removeprefix(NEED_PREFIX)
    lo, hi = SCHOOL_AGES
    if (
        need.mesi
        and set(need.mesi) <= set(SUMMER)
        and need.eta
        and all(lo <= a <= hi for a in need.eta)
    ):
        return "chiusure_scolastiche"
    return None


_POINTING = re.compile(r"(?<![a-z])(?:quell[oaie]|il|la|lo|l) (?:di|da) (\d+)(?![0-9])")


def focus_age(need: Need, text: str | None) -> list[float]:
    """ "e per quello di 11?": the child the resident points at, known or new."""
    if not text or not need.eta:
        return []
    wanted = [a for a in parse_ages(text) if a in need.eta]
    if len(need.eta) >= 2 and len(wanted) == 1 and wanted != need.focus:
        return wanted
    pointed = _POINTING.search(normalise(text))
    return [float(pointed.group(1))] if pointed and float(pointed.group(1)) <= 18 else []
