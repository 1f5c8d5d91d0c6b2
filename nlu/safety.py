"""Deterministic safety net for emergencies (taxonomy intent `emergenza`).

The model may misclassify a message written with typos, in dialect or in a rush;
an emergency must still be caught. This module is a lexicon of regular expressions
(nlu/resources/emergenza.yml) over the normalised, double-letter-squeezed message,
so "mi pikkia", "mi pichia" and "MI PICCHIA!!!" are the same text.

Policy: err on the side of safety, but not absurdly.
- First-person or immediate phrasing always fires ("mi picchia", "voglio farla
  finita", "non respira"), even in idioms we cannot tell apart ("voglio farla finita
  con questa burocrazia" fires: a wrong helpline card is cheap, a missed one is not).
- Topic words fire unless the message is clearly *about* the subject: "infarto" or
  "ictus" in "ha avuto un ictus l'anno scorso, cerco una badante" (very common here:
  caregiving needs) or "violenza" in "convegno sulla violenza di genere" do not.
- Verbs that are also idioms need their victim: "il sole picchia" or "mi tocca
  lavorare fino alle 18" do not fire, "mi picchia" and "lo zio mi tocca" do.
- "centro antiviolenza orari" fires as `violenza`: whoever asks for it may be at
  risk, and 1522 is the entry point to the centri antiviolenza anyway.
- Situations, not words: residents rarely write "violenza". A *situation* rule fires
  when all of its parts are found anywhere in the message and none of its `unless`:
  a threat (a kill verb and a person: "dice che se parlo ammazza me"), violence in
  progress against anyone ("il vicino sta picchiando il bambino"), an ex waiting under
  the house, a restraining order broken, a scream or a thud and then silence on the
  phone, an overdose, self-harm. Their `unless` lists the fiction and sport contexts
  ("nel film lui la uccide", "alla boxe le prende").
- A situation's parts must be close to each other (25 words): a long letter names people
  and places everywhere, and a word at the start and another at the end are not one scene.
- A danger the resident denies is not one: "non sono in pericolo", "non voglio farmi del
  male" are taken out of the text before any rule looks at it (`frames: denial`). Only
  denials are: "non voglio morire" is fear, and still fires.
- Stories are not emergencies: a message framed as fiction or news ("nel film lui la
  picchia", "al telegiornale") or as a calm question about long ago ("dieci anni fa mio
  padre mi picchiava, posso parlarne con qualcuno?") does not fire, unless it also
  says the danger is now ("adesso", "ancora", "di nuovo", "aiuto", "ho paura").
  Both lists are `frames:` in the lexicon.
- Feeling ill now and asking what to do is a medical emergency (`sanitaria`, 112):
  first-person malaise ("sto male", "mi sento male", "non sto bene", "nn sto bn", "mi
  gira tutto", a very strong pain) together with an immediate help-seeking question
  ("chi devo chiamare", "cosa faccio", "che numero faccio", "aiutatemi")
  (`malore_in_prima_persona`). It does not fire when the malaise is emotional or
  long-standing ("sto male per la separazione, vorrei parlare con qualcuno" is
  `bisogno_benessere`; "da mesi", "per mia figlia", a psychologist, to talk), past
  ("ieri stavo male", "sono stata male"), hypothetical or habitual ("se mi sento male di
  notte chi chiamo?"), about paperwork (a sick note, work, school) or laughter ("sto
  male dal ridere"). Someone else unwell needs urgency too (`sta_male_urgente`):
  "mio figlio sta male cosa faccio" is left to the model and the flows.

Every kind's answer should also show 112 for immediate danger (`HELPLINES`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from nlu.text import normalise, squeeze

# When several kinds match, the most specific helpline wins.
KIND_PRIORITY: tuple[str, ...] = ("abuso_minori", "suicidio", "violenza", "sanitaria")

HELPLINES: dict[str, tuple[tuple[str, str], ...]] = {
    "violenza": (("1522", "Numero antiviolenza e stalking"), ("112", "Numero unico emergenza")),
    "abuso_minori": (("19696", "Telefono Azzurro"), ("112", "Numero unico emergenza")),
    "suicidio": (("02 2327 2327", "Telefono Amico"), ("112", "Numero unico emergenza")),
    "sanitaria": (("112", "Numero unico emergenza"),),
}

_MACROS = {"{gap}": "(?:[a-z0-9]+ ){0,3}", "{w}": "[a-z0-9]*"}
_ESCAPE = re.compile(r"\\[a-zA-Z]")
_UNKNOWN_MACRO = re.compile(r"\{[a-z_]+\}")


# A situation's parts must be this close (in words): in a letter of 130 words "qualcuno"
# near the start and "il lavoro che mi aspetta" near the end are not someone lying in wait.
SITUATION_WORDS = 25


def _word_positions(pattern: re.Pattern[str], prepared: str) -> list[int]:
    return [prepared.count(" ", 0, m.start()) for m in pattern.finditer(prepared)]


@dataclass(frozen=True)
class _Situation:
    name: str
    parts: tuple[re.Pattern[str], ...]  # every one must match, within SITUATION_WORDS
    unless: tuple[re.Pattern[str], ...]  # none may match

    def matches(self, prepared: str) -> bool:
        if not all(p.search(prepared) for p in self.parts) or any(
            p.search(prepared) for p in self.unless
        ):
            return False
        spots = [_word_positions(p, prepared) for p in self.parts]
        return any(
            all(any(start <= at <= start + SITUATION_WORDS for at in part) for part in spots)
            for start in {at for part in spots for at in part}
        )


@dataclass(frozen=True)
class _Frames:
    story: tuple[re.Pattern[str], ...]  # fiction, news, long ago
    now: tuple[re.Pattern[str], ...]  # the danger is present: the story frame does not hold
    denial: tuple[re.Pattern[str], ...]  # "non sono in pericolo": said, and not a danger

    def is_story(self, prepared: str) -> bool:
        return any(p.search(prepared) for p in self.story) and not any(
            p.search(prepared) for p in self.now
        )

    def without_denials(self, prepared: str) -> str:
        for pattern in self.denial:
            prepared = pattern.sub(" ", prepared)
        return prepared


@dataclass(frozen=True)
class _Rules:
    always: tuple[re.Pattern[str], ...]
    topic: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    situations: tuple[_Situation, ...]


def compile_pattern(pattern: str, macros: dict[str, str] | None = None) -> re.Pattern[str]:
    """Compile one lexicon pattern (see the header of resources/emergenza.yml).

    Args:
        pattern: Plain-Italian regex, with `{gap}` and `{w}` macros.
        macros: The lexicon's own macros (`{persona}` -> a regex), expanded first.

    Returns:
        A regex matching whole words of `squeeze(normalise(text))`.

    Raises:
        ValueError: If the pattern uses backslash escapes, which squeezing breaks, or
            names a macro that is not defined.
    """
    for _ in range(2):  # a macro may use another one
        for name, expansion in (macros or {}).items():
            pattern = pattern.replace(f"{{{name}}}", f"(?:{expansion})")
    if _ESCAPE.search(pattern):
        raise ValueError(f"no backslash escapes in safety patterns: {pattern!r}")
    body = squeeze(pattern)
    for macro, expansion in _MACROS.items():
        body = body.replace(macro, expansion)
    if _UNKNOWN_MACRO.search(body):
        raise ValueError(f"unknown macro in safety pattern: {pattern!r}")
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")


@functools.cache
def _lexicon() -> dict[str, Any]:
    source = resources.files("nlu") / "resources" / "emergenza.yml"
    data: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    return data


def _compiled(patterns: list[str] | None) -> tuple[re.Pattern[str], ...]:
    macros = {str(k): str(v) for k, v in (_lexicon().get("macros") or {}).items()}
    return tuple(compile_pattern(p, macros) for p in patterns or ())


@functools.cache
def _frames() -> _Frames:
    frames = _lexicon().get("frames") or {}
    return _Frames(
        story=_compiled(frames.get("story")),
        now=_compiled(frames.get("now")),
        denial=_compiled(frames.get("denial")),
    )


@functools.cache
def _rules() -> dict[str, _Rules]:
    rules = {}
    for kind in KIND_PRIORITY:
        entry = _lexicon()[kind]
        situations = tuple(
            _Situation(
                name=str(s["name"]), parts=_compiled(s["all"]), unless=_compiled(s.get("unless"))
            )
            for s in entry.get("situations") or ()
        )
        rules[kind] = _Rules(
            _compiled(entry.get("always")),
            _compiled(entry.get("topic")),
            _compiled(entry.get("unless")),
            situations,
        )
    return rules


def _prepare(text: str) -> str:
    return _frames().without_denials(squeeze(normalise(text)))


def emergency_kinds(text: str) -> tuple[str, ...]:
    """Every kind of emergency the message matches, in `KIND_PRIORITY` order.

    Args:
        text: A resident's raw message.

    Returns:
        Kinds among "abuso_minori", "suicidio", "violenza", "sanitaria"; empty if none.
    """
    prepared = _prepare(text)
    if _frames().is_story(prepared):
        return ()
    return tuple(kind for kind, rules in _rules().items() if _fires(rules, prepared))


def _fires(rules: _Rules, prepared: str) -> bool:
    return (
        any(p.search(prepared) for p in rules.always)
        or (
            any(p.search(prepared) for p in rules.topic)
            and not any(p.search(prepared) for p in rules.unless)
        )
        or any(s.matches(prepared) for s in rules.situations)
    )


def matching_rules(text: str) -> list[tuple[str, str]]:
    """Which rules of the lexicon fire on a message, to explain (and test) a decision.

    Args:
        text: A resident's raw message.

    Returns:
        (kind, rule) pairs in `KIND_PRIORITY` order; a rule is "always:N", "topic:N"
        (0-based index in its list) or a situation's name.
    """
    prepared = _prepare(text)
    found: list[tuple[str, str]] = []
    if _frames().is_story(prepared):
        return found
    for kind, rules in _rules().items():
        found += [(kind, f"always:{i}") for i, p in enumerate(rules.always) if p.search(prepared)]
        if not any(p.search(prepared) for p in rules.unless):
            found += [(kind, f"topic:{i}") for i, p in enumerate(rules.topic) if p.search(prepared)]
        found += [(kind, s.name) for s in rules.situations if s.matches(prepared)]
    return found


def emergency_kind(text: str) -> str | None:
    """The kind of emergency in a message, to pick the helpline.

    Args:
        text: A resident's raw message.

    Returns:
        "abuso_minori" (Telefono Azzurro 19696), "suicidio" (Telefono Amico),
        "violenza" (1522), "sanitaria" (112), or None. With several, the first
        in `KIND_PRIORITY`.
    """
    kinds = emergency_kinds(text)
    return kinds[0] if kinds else None


def is_emergency(text: str) -> bool:
    """Whether a message must be treated as an emergency whatever the model says.

    Args:
        text: A resident's raw message.

    Returns:
        True if any emergency pattern matches. Never raises on any string.
    """
    return bool(emergency_kinds(text))
