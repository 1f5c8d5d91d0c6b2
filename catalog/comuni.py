"""Canonical ISTAT names of the comuni a service may serve: the territory's and its neighbours'.

The names come from the territory (`territory.model.Territory.places`); the catalogue is
checked against them when it is read (see `catalog.loader.load_path`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable


def _key(name: str) -> str:
    return re.sub(r"[\s\-']+", " ", name.casefold()).strip()


def territory_comune(name: str, places: Iterable[str]) -> str | None:
    """The canonical ISTAT spelling of `name` among `places`, tolerant of case, spacing and
    hyphens.

    Args:
        name: a comune as typed by staff, e.g. "castiglione  olona".
        places: the territory's comuni and neighbours.

    Returns:
        The canonical name ("Castiglione Olona"), or None when it is not one of `places`.
    """
    return {_key(p): p for p in places}.get(_key(name))


def suggest_comune(name: str, places: Iterable[str]) -> str | None:
    """The closest of `places` to a misspelt name, for error messages."""
    by_key = {_key(p): p for p in places}
    close = difflib.get_close_matches(name.casefold(), list(by_key), n=1, cutoff=0.7)
    return by_key[close[0]] if close else None
