"""Long messages: the request, not the story, says what the resident asks for.

The model learnt from messages of a line or two. A letter that tells a story first (shifts
at work, an illness, a move) is read by its story words: a mother back at work after
maternity leave asking for a nursery reads as smart working. For a message of several
sentences the client also reads the sentences that ask for something (a question mark, or
a request word: "vorrei", "cerco", "esiste", "mi serve"...), and the whole message and
those sentences vote (docs/nlu.md, "Long messages"). A long run-on without full stops
(voice-to-text) is cut into clauses at its request words instead. Short messages are read
as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from nlu.text import normalise

MIN_WORDS = 20  # below this a message has no story to get lost in
MAX_REQUESTS = 4  # the last ones: letters ask at the end, after the story
CLAUSE_GAP = 6  # "volevo sapere se esiste": one clause, not three
CLAUSE_WORDS = 25
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
# Over normalise()d text: lowercase, no accents, "c'è" -> "c e", SMS spelling expanded.
_REQUEST = re.compile(
    r"\b(?:vorrei|vorremmo|volevo|cerco|cerchiamo|chiedo|chiederei|chiedere|sapere"
    r"|esiste|esistono|c e|ci sono|avete|potete|potreste|posso|possiamo|come (?:si )?fa"
    r"|serve|servirebbe|ci serve|aiuto|aiutarmi|aiutarci|consigli|qualcuno|dove|quali"
    r"|quale|quanto|informazioni)\b"
)

Ranking = Sequence[tuple[str, float]]


def request_sentences(text: str) -> list[str]:
    """The sentences of a long message that ask for something (none for a short one)."""
    if len(text.split()) < MIN_WORDS:
        return []
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    if len(sentences) < 2:
        return _request_clauses(text)[-MAX_REQUESTS:]
    asks = [s for s in sentences if "?" in s or _REQUEST.search(normalise(s))]
    return asks[-MAX_REQUESTS:]


def _request_clauses(text: str) -> list[str]:
    """The clauses of a run-on that start at a request word, up to the next one."""
    ws = text.split()
    starts: list[int] = []
    for i in range(len(ws)):
        if _REQUEST.match(normalise(" ".join(ws[i : i + 2]))) and (
            not starts or i - starts[-1] >= CLAUSE_GAP
        ):
            starts.append(i)
    if not starts:
        return []
    ends = [*starts[1:], len(ws)]
    return [" ".join(ws[s : min(e, s + CLAUSE_WORDS)]) for s, e in zip(starts, ends, strict=True)]


def vote(readings: Sequence[Ranking]) -> list[tuple[str, float]]:
    """Intents by their summed confidence over the readings, best first.

    Returns (intent, confidence) pairs where the confidence is the highest any single
    reading gave that intent: as sure as the clearest sentence that asks for it.
    """
    totals: dict[str, float] = {}
    best: dict[str, float] = {}
    for ranking in readings:
        for name, confidence in ranking:
            totals[name] = totals.get(name, 0.0) + confidence
            best[name] = max(best.get(name, 0.0), confidence)
    return [(name, best[name]) for name in sorted(totals, key=totals.__getitem__, reverse=True)]
