"""Text normalisation shared by the deterministic Italian helpers.

Residents write from phones: no accents ("perche", "e svenuta"), shouting letters
("aiutoooo"), SMS spelling ("ke", "nn", "x me", "pikkia"). Every matcher in `nlu`
compares *normalised* text against *normalised* lexicon entries, so both sides go
through the same function and a spelling variant only has to be handled once, here.

The output is for matching, never for display: it is lowercase ASCII-ish words
separated by single spaces, punctuation removed, decimal commas turned into dots.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

# Letters, or a number with an optional decimal part ("3,5" / "1.5"). Digits and
# letters are split ("17enne" -> "17", "enne") so age patterns stay simple.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+")
_TRIPLE = re.compile(r"([^\W\d_])\1{2,}")
_DOUBLE = re.compile(r"([^\W\d_])\1+")

# SMS spelling of the hard "c": "ke" -> "che", "pikkia" -> "picchia", "kasa" -> "casa".
_K_RULES = (
    (re.compile(r"kk(?=[ie])"), "cch"),
    (re.compile(r"k(?=[ie])"), "ch"),
    (re.compile(r"kk"), "cc"),
    (re.compile(r"k"), "c"),
)
# Words where a "k" is real (loanwords, units): the SMS rule would mangle them.
_KEEP_K = frozenset(
    {
        "ok",
        "okay",
        "kg",
        "km",
        "weekend",
        "week",
        "working",
        "smartworking",
        "stalking",
        "stalker",
        "parking",
        "babyparking",
        "kit",
        "kids",
        "kinder",
        "kindergarten",
    }
)

# Common chat abbreviations, keyed by their spelling *after* the k rule. Values are
# plain words that are not keys themselves, which keeps `normalise` idempotent.
ABBREVIATIONS: dict[str, str] = {
    "x": "per",
    "xche": "perche",
    "xc": "perche",
    "nn": "non",
    "sn": "sono",
    "cmq": "comunque",
    "cn": "con",
    "qlc": "qualche",
    "qcs": "qualcosa",
    "qlcs": "qualcosa",
    "qlcn": "qualcuno",
    "xo": "pero",
    "bn": "bene",
    "grz": "grazie",
    "tvb": "ti voglio bene",
    "dp": "dopo",
    "nnt": "niente",
}


@dataclass(frozen=True)
class Word:
    """One normalised word and the span of the original text it comes from."""

    norm: str
    start: int
    end: int


def _fold(token: str) -> str:
    """Lowercase, strip accents and compatibility forms ("ﬁ" -> "fi", "²" -> "2")."""
    decomposed = unicodedata.normalize("NFKD", token.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Single words, not messages: the flow, the safety net and the entities normalise the same
# text several times per turn, and residents' vocabulary is small.
@functools.lru_cache(maxsize=16384)
def _normalise_word(token: str) -> tuple[str, ...]:
    """Normalise one raw token; it may become several words or none."""
    for _ in range(4):  # a fixed point is reached in 1-2 rounds; bounded for safety
        folded = _fold(token)
        if "." in folded or "," in folded:
            folded = folded.replace(",", ".")
        elif folded not in _KEEP_K:
            folded = _TRIPLE.sub(r"\1", folded)
            for pattern, repl in _K_RULES:
                folded = pattern.sub(repl, folded)
            folded = _TRIPLE.sub(r"\1", folded)
        folded = ABBREVIATIONS.get(folded, folded)
        if folded == token:
            break
        token = folded
    parts = _TOKEN.findall(token)
    if len(parts) == 1 and parts[0] == token:
        return (token,)
    # Folding produced separators or new digit/letter boundaries: split again.
    return tuple(w for part in parts for w in _normalise_word(part))


def words(text: str) -> list[Word]:
    """Split `text` into normalised words keeping their original character spans.

    Args:
        text: Raw message text.

    Returns:
        The words in order; `norm` is normalised, `start`/`end` index into `text`.
    """
    out: list[Word] = []
    for match in _TOKEN.finditer(text):
        for norm in _normalise_word(match.group()):
            out.append(Word(norm, match.start(), match.end()))
    return out


def normalise(text: str) -> str:
    """Normalise a message for matching.

    Lowercase, accents stripped, punctuation and apostrophes turned into spaces,
    runs of 3+ equal letters collapsed ("aiutooo" -> "aiuto"), SMS "k" spelling
    turned into Italian ("pikkia" -> "picchia"), chat abbreviations expanded
    ("nn" -> "non", "x" -> "per"). Idempotent.

    Args:
        text: Raw message text.

    Returns:
        Space-separated normalised words.
    """
    return " ".join(w.norm for w in words(text))


def squeeze(text: str) -> str:
    """Collapse every run of equal letters to one letter ("picchia" -> "pichia").

    Used by fuzzy lexicons where residents both drop and add double letters
    ("pichia", "piccia", "mamma"/"mama"); apply it to both sides of a comparison.

    Args:
        text: Usually already `normalise`d text.

    Returns:
        The text with doubled letters (not digits) reduced to single ones.
    """
    return _DOUBLE.sub(r"\1", text)
