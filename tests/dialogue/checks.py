"""What a bot reply means: which question it asks, which services it shows, which facts it gives.

Everything is judged on meaning, not wording: questions are recognised by the copy of
flows/messages.it.yml (read through flows.copy, so a copy edit moves both sides), services by
their catalogue `nome`, facts by the catalogue card read through catalog.loader.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from catalog.loader import load_path
from catalog.schema import Service
from catalog.vocab import MESI
from flows import render
from flows.copy import MESSAGES_FILE, group, template
from territory.model import shipped_territory

# The comuni a catalogue service may serve: the Ambito di Tradate and its neighbours.
PLACES = tuple(shipped_territory("tradate").places)

ROOT = Path(__file__).resolve().parents[2]
_MARKUP = re.compile(r"[*_`~\"“”«»‘’']")  # markdown and quotes: rendering, not meaning
_OPTION = re.compile(r"^\s*(\d{1,2})[.)]\s+(.+?)\s*$")


WEEKDAYS = {
    "lun": "lunedi",
    "mar": "martedi",
    "mer": "mercoledi",
    "gio": "giovedi",
    "ven": "venerdi",
    "sab": "sabato",
    "dom": "domenica",
}


# --- what the bot said ---------------------------------------------------------------------


@dataclass(frozen=True)
class BotMessage:
    """One message as the resident saw it: text and the choices offered (titles, payloads)."""

    text: str
    buttons: tuple[str, ...] = ()
    payloads: tuple[str, ...] = ()  # empty where the channel does not carry them
    kind: str = ""  # WhatsApp: "twilio/quick-reply" or "twilio/list-picker" (interactive)


def split_numbered(text: str) -> tuple[str, tuple[str, ...]]:
    """WhatsApp's "text\\n\\n1. Sì\\n2. No" -> ("text", ("Sì", "No"))."""
    head, sep, tail = text.rpartition("\n\n")
    if not sep:
        return text, ()
    lines = [ln for ln in tail.splitlines() if ln.strip()]
    found = [_OPTION.match(ln) for ln in lines]
    if not lines or not all(found):
        return text, ()
    numbers = [int(m.group(1)) for m in found if m]
    if numbers != list(range(1, len(numbers) + 1)):
        return text, ()
    return head, tuple(m.group(2) for m in found if m)


def norm(text: str) -> str:
    """Casefolded, without accents, markup or quotes, whitespace collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _MARKUP.sub(" ", text.casefold())
    return " ".join(text.split())


def joined(messages: Sequence[BotMessage]) -> str:
    return "\n".join(m.text for m in messages)


def shown(messages: Sequence[BotMessage], limit: int = 3000) -> str:
    """The bot's answer for a failure message (buttons in brackets)."""
    if not messages:
        return "(silence: no message)"
    parts = []
    for m in messages:
        buttons = f"  [{' | '.join(m.buttons)}]" if m.buttons else ""
        parts.append("    > " + m.text.replace("\n", "\n      ") + buttons)
    text = "\n".join(parts)
    return text if len(text) <= limit else text[:limit] + " [...]"


# --- the copy ---------------------------------------------------------------------------------


@cache
def _copy_keys() -> tuple[str, ...]:
    """Every dotted key of messages.it.yml with a sentence."""
    data = yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))
    keys: list[str] = []

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, str):
            keys.append(prefix)
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)

    walk("", data)
    return tuple(keys)


def copy_pattern(key: str, **fixed: str) -> re.Pattern[str]:
    """A regex over normalised text for the sentence at `key`; free placeholders match anything
    short, `fixed` ones their value."""
    parts = re.split(r"\{(\w+)\}", template(key))
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(re.escape(norm(part)) if part.strip() else r"\s*")
        elif part in fixed:
            out.append(re.escape(norm(fixed[part])))
        else:
            out.append(r".{0,160}?")
    # norm() trims the literal parts: let the spaces around placeholders float.
    return re.compile(r"\s*".join(p for p in out if p), re.DOTALL)


def _family(*prefixes: str, exact: Iterable[str] = ()) -> tuple[str, ...]:
    keys = [k for k in _copy_keys() if any(k.startswith(p) for p in prefixes)]
    return tuple(dict.fromkeys([*exact, *keys]))


@cache
def question_keys() -> dict[str, tuple[str, ...]]:
    """The copy keys that ask each question (`asks:` values)."""
    return {
        "consent": _family("consent_question", "consent_reminder"),
        "category": _family("ask_category"),
        "comune": _family("ask_comune", "location_far"),
        "age": _family("ask_age"),
        "operator_offer": _family(
            "offer_operator", exact=("no_match_offer", "not_understood_again")
        ),
    }


def says(key: str, text: str, **fixed: str) -> bool:
    return copy_pattern(key, **fixed).search(norm(text)) is not None


def questions_asked(messages: Sequence[BotMessage]) -> set[str]:
    """Which questions the reply asks (consent, category, comune, age, operator_offer)."""
    text = joined(messages)
    return {q for q, keys in question_keys().items() if any(says(k, text) for k in keys)}


def shows_category(messages: Sequence[BotMessage], categoria: str) -> bool:
    label = group("categories")[categoria]
    return says("suggestions_intro", joined(messages), categoria=label)


def shows_anything(messages: Sequence[BotMessage]) -> bool:
    text = joined(messages)
    return says("suggestions_intro", text) or says("more_intro", text)


def is_handoff(messages: Sequence[BotMessage]) -> bool:
    text = joined(messages)
    return says("handoff_open", text) or says("handoff_closed", text)


def handoff_at(text: str) -> int | None:
    n = norm(text)
    spots = [
        m.start() for k in ("handoff_open", "handoff_closed") if (m := copy_pattern(k).search(n))
    ]
    return min(spots) if spots else None


# Asynchronous notices (scheduler ticks) that may land in any turn after a handoff.
NOTICE_KEYS = ("queue_position", "queue_position_next", "queue_timeout_callback")


def is_notice(message: BotMessage) -> bool:
    return any(says(k, message.text) for k in NOTICE_KEYS)


# --- the catalogue ------------------------------------------------------------------------


@cache
def services() -> dict[str, Service]:
    result = load_path(ROOT / "catalog" / "data", places=PLACES)
    assert not result.problems, result.problems
    return {s.id: s for s in result.services}


def _name_pattern(nome: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(norm(nome)) + r"(?![a-z0-9])")


def mentioned(text: str) -> list[str]:
    """Ids of catalogue services named in `text`, in order of first appearance.

    A name inside a longer one at the same place ("Pasti a domicilio" inside "Pasti a
    domicilio a Castiglione Olona...") counts as the longer one only.
    """
    n = norm(text)
    spans: list[tuple[int, int, str]] = []
    for sid, s in services().items():
        for m in _name_pattern(s.nome).finditer(n):
            spans.append((m.start(), m.end(), sid))
    kept = [
        sp
        for sp in spans
        if not any(o != sp and o[0] <= sp[0] and sp[1] <= o[1] and o[1] - o[0] > sp[1] - sp[0]
                   for o in spans)
    ]  # fmt: skip
    order: dict[str, int] = {}
    for start, _end, sid in sorted(kept):
        order.setdefault(sid, start)
    return list(order)


def _amounts(value: float) -> list[str]:
    """How an amount may be written: 4.000 / 4000, 6,50 / 6,5 / 6.50."""
    if value == int(value):
        return sorted({f"{value:,.0f}".replace(",", "."), str(int(value))})
    return sorted(
        {f"{value:.2f}".replace(".", ","), f"{value:g}".replace(".", ","), f"{value:.2f}"}
    )


def _amount_pattern(value: float) -> str:
    nums = "|".join(re.escape(a) for a in _amounts(value))
    return rf"(?<![\d.,])(?:{nums})\s*(?:€|euro)|(?:€|euro)\s*(?:{nums})(?![\d,])"


def _time_patterns(t: Any) -> list[str]:
    h, m = t.hour, t.minute
    pats = [rf"(?<!\d)0?{h}[:.]{m:02d}(?!\d)"]
    if m == 0:
        pats.append(rf"\b(?:alle|dalle|le|ore|fino alle)\s+{h}\b")
    return pats


def _words(text: str, n: int = 5) -> str:
    return re.escape(" ".join(norm(text).split()[:n]))


def _dates(d: date) -> list[str]:
    month = MESI[d.month - 1]
    return [
        re.escape(f"{d:%d/%m/%Y}"),
        rf"(?<!\d)0?{d.day}/0?{d.month}(?!\d)",
        rf"(?<!\d){d.day}(?:°|º)?\s+{month}",
    ]


def fact_patterns(service: Service, topic: str) -> list[str]:
    """Regexes over normalised text, any of which shows the asked fact of the service."""
    s = service
    pats: list[str] = []
    if topic == "cost":
        pats.append(re.escape(norm(render.cost(s.costo))))
        for v in (s.costo.importo, s.costo.tetto):
            if v:
                pats.append(_amount_pattern(v))
        if s.costo.percentuale:
            pats.append(rf"{s.costo.percentuale:g}\s*%")
        if s.costo.modello.value == "gratuito":
            pats.append(r"gratuit|gratis")
        if s.costo.nota:
            pats.append(_words(s.costo.nota))
    elif topic == "access":
        pats += [_words(p) for p in s.accesso.passi]
        pats += [_words(d, 3) for d in s.accesso.documenti]
    elif topic == "where":
        for sede in s.sedi:
            pats.append(re.escape(norm(sede.indirizzo.split(",")[0])))
        if not s.sedi:
            pats += [re.escape(norm(c)) for c in s.area_servita]
            pats.append(r"a domicilio|a casa")
    elif topic == "hours":
        if s.orari:
            for f in s.orari.fasce:
                pats += _time_patterns(f.dalle) + _time_patterns(f.alle)
                pats += [rf"\b{WEEKDAYS[g.value]}\b" for g in f.giorni]  # "dal lunedì al venerdì"
            if s.orari.nota:
                pats.append(_words(s.orari.nota))
    elif topic == "contacts":
        c = s.contatti
        if c.telefono:
            digits = re.sub(r"\D", "", c.telefono)
            pats.append("DIGITS:" + digits)
        if c.email:
            pats.append(re.escape(norm(c.email)))
        if c.web:
            pats.append(re.escape(norm(c.web)))
    elif topic == "eligibility":
        req = s.requisiti
        if req.isee_max:
            v = int(req.isee_max)
            pats.append(rf"{v:,}".replace(",", "[. ]?"))
        if req.nota:
            pats.append(_words(req.nota))
        if req.genitori_lavoratori:
            pats.append(r"lavora")
        if s.destinatari:
            pats.append(_words(s.destinatari))
        if s.eta_min is not None or s.eta_max is not None:
            pats.append(r"\banni\b|\bmesi\b")
        if s.richiede_valutazione:
            pats.append(r"assistente sociale")
        if req.certificazioni:
            pats.append(r"certificazion|invalidita|104")
    elif topic == "dates":
        fin = s.accesso.finestra_domanda
        if fin:
            pats += _dates(fin.dal) + _dates(fin.al)
        per = s.periodo_attivita
        if per and per.mesi:
            pats += [MESI[m - 1] for m in per.mesi]
        if per and per.dal and per.al:
            pats += _dates(per.dal) + _dates(per.al)
    return pats


def gives_fact(text: str, service: Service, topic: str) -> bool:
    n = norm(text)
    digits = re.sub(r"\D", "", text)
    for p in fact_patterns(service, topic):
        if p.startswith("DIGITS:"):
            if p[7:] in digits:
                return True
        elif re.search(p, n):
            return True
    return False


# --- one turn's expectations --------------------------------------------------------------


@dataclass
class Context:
    """What a run remembers between turns for references ("il secondo", "quello")."""

    page: list[str] = field(default_factory=list)  # services of the last suggestions shown
    focus: str | None = None  # the service the resident last asked about


def _resolve(about: Any, ctx: Context) -> tuple[list[str], str]:
    if isinstance(about, int) and not isinstance(about, bool):
        if not 1 <= about <= len(ctx.page):
            return [], f"no service number {about} among those shown ({ctx.page or 'none'})"
        return [ctx.page[about - 1]], ""
    if isinstance(about, str):
        if about == "last":
            return (ctx.page[-1:], "") if ctx.page else ([], "no services shown yet")
        if about not in services():
            return [], f"harness: unknown service id {about!r}"
        return [about], ""
    if ctx.focus:
        return [ctx.focus], ""
    return (list(ctx.page), "") if ctx.page else ([], "no services shown yet to ask about")


def check(expect: dict[str, Any], messages: Sequence[BotMessage], ctx: Context) -> list[str]:
    """The expectations of one turn that the reply does not meet (empty: all met).

    Also moves the context on: a new page of suggestions, the service asked about.
    """
    text = joined(messages)
    n = norm(text)
    failed: list[str] = []
    asked = questions_asked(messages)
    if "asks" in expect:
        want = expect["asks"]
        if want == "none":
            if asked:
                failed.append(f"asks: none, but the bot asks {sorted(asked)}")
        elif want not in asked:
            failed.append(f"asks: {want}, but the bot asks {sorted(asked) or 'nothing'}")
    if "shows" in expect and not shows_category(messages, expect["shows"]):
        label = group("categories")[expect["shows"]]
        failed.append(f"shows: {expect['shows']} (suggestions intro with {label!r}) not found")
    if "no_match" in expect and says("no_match", text) != expect["no_match"]:
        failed.append(f"no_match: {expect['no_match']}")
    names = mentioned(text)
    for sid in expect.get("mentions", ()):
        if sid not in names:
            failed.append(f"mentions: {sid} ({services()[sid].nome!r}) not in the reply")
    for sid in expect.get("not_mentions", ()):
        if sid in names:
            failed.append(f"not_mentions: {sid} ({services()[sid].nome!r}) is in the reply")
    for s in expect.get("contains", ()):
        if norm(s) not in n:
            failed.append(f"contains: {s!r} missing")
    if (any_of := expect.get("contains_any")) and not any(norm(s) in n for s in any_of):
        failed.append(f"contains_any: none of {list(any_of)}")
    for s in expect.get("not_contains", ()):
        if norm(s) in n:
            failed.append(f"not_contains: {s!r} is there")
    if "emergency" in expect:
        has = "112" in text
        if has != expect["emergency"]:
            failed.append(
                "emergency: helpline 112 " + ("missing" if expect["emergency"] else "shown")
            )
    if "handoff" in expect:
        at = handoff_at(text)
        if (at is not None) != expect["handoff"]:
            failed.append(
                "handoff: " + ("no handoff" if expect["handoff"] else "unexpected handoff")
            )
        elif expect.get("emergency") and at is not None and "112" in text and n.find("112") > at:
            failed.append("emergency: the helpline numbers come after the handoff, not first")
    if "silent" in expect and bool(messages) == expect["silent"]:
        failed.append("silent: " + ("the bot spoke" if expect["silent"] else "no reply"))
    if expect.get("offers_choices") and not (
        any(m.buttons for m in messages) or "operator_offer" in asked
    ):
        failed.append("offers_choices: neither buttons nor a person offered")
    if shows_anything(messages):
        page = [sid for sid in names if not services()[sid].punto_accesso]
        ctx.page, ctx.focus = page, None
    if topic := expect.get("answers_about"):
        candidates, problem = _resolve(expect.get("about"), ctx)
        if problem:
            failed.append(f"answers_about: {topic}: {problem}")
        else:
            ok = [sid for sid in candidates if gives_fact(text, services()[sid], topic)]
            if not any(fact_patterns(services()[sid], topic) for sid in candidates):
                failed.append(f"answers_about: harness: no {topic} facts for {candidates}")
            elif not ok:
                failed.append(
                    f"answers_about: {topic} of {' or '.join(candidates)} not in the reply"
                )
            if "about" in expect and candidates:
                ctx.focus = candidates[0]
            elif len(ok) == 1:
                ctx.focus = ok[0]
    return failed
