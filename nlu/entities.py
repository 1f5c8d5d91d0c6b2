"""Normalise the NLU model's entities and find the ones it missed.

The model returns raw spans ("18 mesi", "venegono sup", "la mia mamma"); the flows
need the contract values of shared/taxonomy.yml: `comune` as the canonical ISTAT
name, `eta` as years (float), `familiare` as one of `FAMILIARI`.

Deterministic completion (used when the model misses an entity) is deliberately
narrow, to add little noise:
- comuni: `nlu.comuni.Gazetteer.find_comuni_spans` (its docstring has the rules);
- ages: a number with a unit only after an age cue ("ha 3 anni", "bimba di 18
  mesi", "mia madre 80 anni"), never after a duration cue ("da 3 anni", "3 anni
  fa"), plus "17enne" and "neonato";
- familiari: a possessive before a family noun ("mia mamma", "i miei figli",
  "mio ex marito"), and "per me" for the resident themself.

The family-word lexicon is data: nlu/resources/familiari.yml.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import yaml
from rapidfuzz import fuzz, process

from nlu.comuni import Gazetteer, is_comune
from nlu.text import Word, normalise, squeeze, words
from nlu.types import Entity


def _words(text: str) -> list[str]:
    return text.split()


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _counted(text: str, start: int = 0, step: int = 1) -> dict[str, int]:
    return {word: start + i * step for i, word in enumerate(text.split())}


_LEXICON_TEXT: dict[str, str] = yaml.safe_load(
    (resources.files("nlu") / "resources" / "familiari.yml").read_text(encoding="utf-8")
)
FAMILIARI: tuple[str, ...] = (*_LEXICON_TEXT, "se_stesso")  # shared/taxonomy.yml values
# Compared on squeezed forms: "mama", "nona", "figlo" differ only by double letters.
_LEXICON = {squeeze(normalise(w)): v for v, ws in _LEXICON_TEXT.items() for w in ws.split()}
_LEXICON_KEYS = list(_LEXICON)
_SELF = _wordset("io me mi stesso stessa personalmente noi")
# "il mio ragazzo" is a partner, "i ragazzi" are children: only possessive singular.
_PARTNER = {"ragazzo": "marito", "ragazza": "moglie"}
_POSSESSIVES = _wordset("mio mia miei mie nostro nostra nostri nostre")
# Words allowed between the possessive and the noun: "mia anziana madre", "i miei 2 figli".
_BETWEEN = _wordset(
    "piccolo piccola grande anziano anziana anziani caro cara vecchio vecchia primo prima "
    "secondo seconda ex due tre quattro 2 3 4 povero povera adorato adorata"
)

_BASE_NUMBERS = _counted(
    "zero uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici "
    "quattordici quindici sedici diciassette diciotto diciannove"
) | {"un": 1, "una": 1, "cento": 100}
_TENS = _counted("venti trenta quaranta cinquanta sessanta settanta ottanta novanta", 20, 10)


def _number_words() -> tuple[dict[str, int], dict[str, int]]:
    """Italian number words up to 100, and their "-enne" forms ("ottantenne")."""
    numbers = dict(_BASE_NUMBERS)
    for tens, tv in _TENS.items():
        numbers[tens] = tv
        for unit in _words("uno un due tre quattro cinque sei sette otto nove"):
            # Italian drops the tens' vowel before a vowel: "ventuno", "trentotto".
            stem = tens[:-1] if unit[0] in "uo" else tens
            numbers[stem + unit] = tv + _BASE_NUMBERS[unit]
    enne = {(w[:-1] if w[-1] in "aeiou" else w) + "enne": v for w, v in numbers.items() if v >= 11}
    # Below 11 the "-enne" forms are irregular ("decenne", "treenne"/"trienne").
    enne |= _counted("duenne treenne quattrenne cinquenne seienne settenne ottenne novenne", 2)
    enne |= {"decenne": 10, "trienne": 3}
    return numbers, enne


_NUMBERS, _ENNE = _number_words()
_NUM = r"([0-9]+(?:\.[0-9]+)?)"
_AGE = re.compile(
    rf"(?<![a-z0-9.])(?:"
    rf"{_NUM} (?:anni|anno|annetti)(?: (?:e )?(?:(mezzo)|{_NUM} (?:mesi|mese)))?"
    rf"|{_NUM} (?:mesi|mese)(?: e (mezzo))?"
    rf"|{_NUM} (?:settimane|settimana)"
    rf"|{_NUM} (?:giorni|giorno)"
    rf"|{_NUM} enne"
    rf"|{_NUM} e mezzo"
    rf"|(mezzo) anno|(anno) e mezzo|(neonat[oaie]|appena nat[oaie])"
    rf")(?![a-z0-9])"
)
_NUM_ONLY = re.compile(_NUM)
_BARE = re.compile(rf"(?:(?:ha|di|eta|anni|circa|quasi) )*{_NUM}")
_UNIT_AFTER = re.compile(
    r"\s*(?:anni|anno|mesi|mese|settimane|giorni)\b(?:\s+e\s+mezzo)?", re.IGNORECASE
)
_AGE_VERBS = _wordset("ha hanno ho abbiamo avete compie compiuto compiera compira fatto eta di")
_FILLERS = _wordset("gia quasi appena solo soltanto circa ormai ancora")
_DURATION = _wordset("da per tra fra ogni dopo entro prima oltre")
# Squeezed forms, compared with squeeze(word).
_PERSONS = frozenset(_LEXICON) | _wordset(
    "anziano anziana signora signore persona ragazo ragaza ragazino ragazina io eta"
    " grande picolo picola picolino picolina magiore minore mezano"
)
_MAX_AGE = 120.0


def _digitise(ws: list[Word]) -> tuple[str, list[int]]:
    """Number words to digits; returns the text and each word's offset in it."""
    parts: list[str] = []
    offsets: list[int] = []
    pos = 0
    for w in ws:
        if w.norm in _NUMBERS:
            token = str(_NUMBERS[w.norm])
        elif w.norm in _ENNE:
            token = f"{_ENNE[w.norm]} enne"
        else:
            token = w.norm
        offsets.append(pos)
        parts.append(token)
        pos += len(token) + 1
    return " ".join(parts), offsets


def _age_value(m: re.Match[str]) -> float | None:
    g = m.groups()
    if g[0] is not None:  # years, maybe "e mezzo" or "e N mesi"
        value = float(g[0]) + (0.5 if g[1] else 0.0) + (float(g[2]) / 12 if g[2] else 0.0)
    elif g[3] is not None:
        value = (float(g[3]) + (0.5 if g[4] else 0.0)) / 12
    elif g[5] is not None:
        value = float(g[5]) * 7 / 365
    elif g[6] is not None:
        value = float(g[6]) / 365
    elif g[7] is not None or g[8] is not None:
        value = float(g[7] if g[7] is not None else g[8]) + (0.5 if g[8] else 0.0)
    else:
        value = {"mezzo": 0.5, "anno": 1.5}.get(g[9] or g[10] or "", 0.0)
    return round(value, 2) if value <= _MAX_AGE else None


def parse_age(span: str) -> float | None:
    """Parse an age expression into years.

    Args:
        span: "18 mesi", "tre anni e mezzo", "2 anni e 3 mesi", "17enne", "ha 80 anni",
            "neonato", or a bare number.

    Returns:
        Years rounded to 2 decimals (18 mesi -> 1.5), or None if no plausible age.
    """
    text, _ = _digitise(words(span))
    m = _AGE.search(text)
    if m:
        return _age_value(m)
    bare = _BARE.fullmatch(text)
    if bare and float(bare.group(1)) <= _MAX_AGE:
        return round(float(bare.group(1)), 2)
    return None


def _lookup_familiare(word: str) -> str | None:
    key = squeeze(word)
    if key in _LEXICON:
        return _LEXICON[key]
    if len(key) < 5:
        return None
    best = process.extract(key, _LEXICON_KEYS, scorer=fuzz.ratio, limit=3, score_cutoff=85.0)
    values = {_LEXICON[b[0]] for b in best if b[1] == best[0][1]} if best else set()
    return values.pop() if len(values) == 1 else None  # "figli?" figlio/figlia tie: None


def normalise_familiare(span: str) -> str | None:
    """Map a family-member mention to a taxonomy value.

    Args:
        span: "la mia mamma", "babbo", "i miei figli", "compagna", "per me", "mogle".

    Returns:
        One of `FAMILIARI`, or None. The first family noun wins; "se_stesso" only
        when the span names no one else ("io", "per me", "me stessa").
    """
    toks = normalise(span).split()
    for i, tok in enumerate(toks):
        if tok in _PARTNER and i and toks[i - 1] in _POSSESSIVES:
            return _PARTNER[tok]
        value = _lookup_familiare(tok) if tok not in _POSSESSIVES else None
        if value:
            return value
    return "se_stesso" if any(t in _SELF for t in toks) else None


def _ages_in_text(ws: list[Word]) -> list[tuple[Entity, int, int]]:
    text, offsets = _digitise(ws)
    found = []
    for m in _AGE.finditer(text):
        first = max(i for i, off in enumerate(offsets) if off <= m.start())
        last = max(i for i, off in enumerate(offsets) if off < m.end())
        before = [w.norm for w in ws[max(0, first - 3) : first] if w.norm not in _FILLERS]
        cue = bool(m.group(12)) or text[m.start() : m.end()].endswith("enne")
        cue = cue or bool(before and before[-1] in _AGE_VERBS)
        cue = cue or any(squeeze(b) in _PERSONS for b in before)
        duration = bool(before and before[-1] in _DURATION)
        ago = last + 1 < len(ws) and ws[last + 1].norm == "fa"
        value = _age_value(m)
        if cue and not duration and not ago and value is not None:
            found.append((Entity("eta", value), ws[first].start, ws[last].end))
    return found


_UNITS = _wordset("anni anno annetti mesi mese")
_ARTICLES = _wordset("un una uno")
_MAX_CHILD = 18.0  # a bare "di 9" after a person is a child's age
_CHAIN_JOINERS = _wordset("e ed o")


def _is_number(word: Word) -> bool:
    # "un"/"una"/"uno" are mostly articles ("ho un 17enne"): only digits or real number words.
    return bool(_NUM_ONLY.fullmatch(word.norm)) or (
        word.norm in _NUMBERS and word.norm not in _ARTICLES
    )


def _number(word: Word) -> float:
    return float(_NUMBERS[word.norm]) if word.norm in _NUMBERS else float(word.norm)


def _chain_ages(ws: list[Word]) -> list[tuple[Entity, int, int]]:
    """Several ages in a row: "figli di 6 e 11 anni", "due bimbi di 3 e 5", "8, 10 e 12 anni".

    A chain of two or more numbers joined by "e" (commas are dropped by `words`) is a
    list of ages when a unit follows it or a person noun stands just before it ("bimbi
    di 3 e 5"); a single number needs the stricter rules of `_ages_in_text`.
    """
    found: list[tuple[Entity, int, int]] = []
    i = 0
    while i < len(ws):
        if not _is_number(ws[i]):
            i += 1
            continue
        chain, joined = [i], False
        j = i + 1
        while j < len(ws):
            if _is_number(ws[j]):
                chain.append(j)
            elif ws[j].norm in _CHAIN_JOINERS and j + 1 < len(ws) and _is_number(ws[j + 1]):
                joined = True
            else:
                break
            j += 1
        unit = ws[j].norm if j < len(ws) and ws[j].norm in _UNITS else None
        before = [w.norm for w in ws[max(0, i - 3) : i] if w.norm not in _FILLERS]
        person = any(squeeze(b) in _PERSONS or b in _AGE_VERBS for b in before)
        duration = bool(before and before[-1] in _DURATION)
        # "bimba di 9", "un figlio di 7 e una di 12": one number right after "<person> di".
        owner = ws[i - 2].norm if i >= 2 and ws[i - 1].norm == "di" else ""
        single = len(chain) == 1 and (squeeze(owner) in _PERSONS or owner in _ARTICLES)
        single = single and (bool(unit) or _number(ws[i]) <= _MAX_CHILD)
        listed = len(chain) >= 2 and joined and (bool(unit) or person)
        if (listed or single) and not duration:
            scale = 12.0 if unit in ("mesi", "mese") else 1.0
            for k in chain:
                value = _number(ws[k]) / scale
                if value <= _MAX_AGE:
                    found.append((Entity("eta", round(value, 2)), ws[k].start, ws[k].end))
        i = j
    return found


def parse_ages(text: str) -> list[float]:
    """Every age in an answer to "quanti anni ha?": "4", "7 anni e mezzo", "6 e 11", "ne ha 12".

    Unlike entity extraction, no cue is needed: the question gives the context. A number
    followed by "di" or by a person noun counts people, not years ("uno di 3", "2 figli").

    Args:
        text: the resident's answer.

    Returns:
        Ages in years, in order (months converted), empty when none is plausible.
    """
    ws = words(text)
    digitised, offsets = _digitise(ws)
    ages: list[float] = []
    covered: set[int] = set()
    for m in _AGE.finditer(digitised):
        value = _age_value(m)
        covered |= {i for i, off in enumerate(offsets) if m.start() <= off < m.end()}
        if value is not None:
            ages.append(value)
    for i, w in enumerate(ws):
        if i in covered or not _is_number(w):
            continue
        after = ws[i + 1].norm if i + 1 < len(ws) else ""
        if after == "di" or squeeze(after) in _PERSONS:
            continue
        value = _number(w)
        if value <= _MAX_AGE:
            ages.append(round(value, 2))
    return ages


def _familiari_in_text(ws: list[Word]) -> list[tuple[Entity, int, int]]:
    found = []
    for i, w in enumerate(ws):
        if w.norm == "per" and i + 1 < len(ws) and ws[i + 1].norm == "me":
            found.append((Entity("familiare", "se_stesso"), w.start, ws[i + 1].end))
        if w.norm not in _POSSESSIVES:
            continue
        j = i + 1
        while j < len(ws) and j <= i + 2 and ws[j].norm in _BETWEEN:
            j += 1
        if j < len(ws):
            value = normalise_familiare(f"{w.norm} {ws[j].norm}")
            if value and value != "se_stesso":
                found.append((Entity("familiare", value), w.start, ws[j].end))
    return found


def _from_model(text: str, item: Mapping[str, Any], places: Gazetteer) -> Entity | None:
    name, value = item.get("entity"), item.get("value")
    start, end = item.get("start"), item.get("end")
    span, span_end = "", 0
    if isinstance(start, int) and isinstance(end, int) and 0 <= start <= end:
        span, span_end = text[start:end], end
    if name == "comune":
        comune = places.guess_italian_comune(str(value)) if value is not None else None
        comune = comune or (places.guess_italian_comune(span) if span else None)
        return Entity("comune", comune) if comune and is_comune(comune) else None
    if name == "eta":
        years: float | None = None
        if span and _NUM_ONLY.fullmatch(_digitise(words(span))[0]):
            unit = _UNIT_AFTER.match(text, span_end)  # model tagged "18" of "18 mesi"
            years = parse_age(span + unit.group()) if unit else None
        if years is None and isinstance(value, int | float) and not isinstance(value, bool):
            years = round(float(value), 2) if 0 <= value <= _MAX_AGE else None
        if years is None and span:
            years = parse_age(span)
        if years is None and value is not None:
            years = parse_age(str(value))
        return Entity("eta", years) if years is not None else None
    if name == "familiare":
        rel = normalise_familiare(str(value)) if value is not None else None
        rel = rel or (normalise_familiare(span) if span else None)
        return Entity("familiare", rel) if rel else None
    return None  # not in shared/taxonomy.yml


def normalise_entities(
    text: str, raw: Sequence[Mapping[str, Any]], places: Gazetteer
) -> tuple[Entity, ...]:
    """Clean the model's entities and add the ones it missed.

    Args:
        text: The message the model parsed (spans index into it).
        raw: Rasa's `entities` list: dicts with entity, value, start, end, ...
        places: how the territory names its comuni.

    Returns:
        Entities in order of appearance, one per (type, value). When a model entity
        and a deterministic one of the same type overlap, the longer span wins
        ("18" from the model vs "bimba di 18 mesi").
    """
    spans: list[tuple[Entity, int, int, bool]] = []
    for n, item in enumerate(raw):
        entity = _from_model(text, item, places)
        if entity is None:
            continue
        start, end = item.get("start"), item.get("end")
        if not (isinstance(start, int) and isinstance(end, int)):
            start, end = len(text) + n, len(text) + n  # unknown position: keep, last
        spans.append((entity, start, end, True))
    ws = words(text)
    extra = [(Entity("comune", c), s, e) for c, s, e in places.find_comuni_spans(text)]
    extra += _ages_in_text(ws) + _chain_ages(ws) + _familiari_in_text(ws)
    for entity, start, end in extra:
        clash = [
            sp for sp in spans if sp[0].entity == entity.entity and sp[1] < end and start < sp[2]
        ]
        if all(end - start > sp[2] - sp[1] for sp in clash):
            spans = [sp for sp in spans if sp not in clash]
            spans.append((entity, start, end, False))
    spans.sort(key=lambda sp: (sp[1], not sp[3]))
    return tuple(dict.fromkeys(sp[0] for sp in spans))
