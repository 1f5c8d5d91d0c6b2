"""Canonical ISTAT names of the comuni a service may serve: the Ambito and its neighbours."""

from __future__ import annotations

import difflib
import re

from nlu.comuni import AMBITO_COMUNI

# The Ambito's comuni come from the NLU's list, so there is a single source of truth.
AMBITO_TRADATE: tuple[str, ...] = AMBITO_COMUNI

# Comuni bordering the Ambito: residents there sometimes use our services (and vice versa).
VICINI: tuple[str, ...] = (
    "Binago",
    "Cairate",
    "Carbonate",
    "Carnago",
    "Castelnuovo Bozzente",
    "Gazzada Schianno",
    "Locate Varesino",
    "Lozza",
    "Malnate",
    "Morazzone",
    "Mozzate",
    "Varese",
)

COMUNI: tuple[str, ...] = AMBITO_TRADATE + VICINI
_BY_KEY = {re.sub(r"[\s\-']+", " ", c.casefold()).strip(): c for c in COMUNI}


def territory_comune(name: str) -> str | None:
    """The canonical ISTAT spelling of `name`, tolerant of case, spacing and hyphens.

    Args:
        name: a comune as typed by staff, e.g. "castiglione  olona".

    Returns:
        The canonical name ("Castiglione Olona"), or None when it is not a known comune.
    """
    return _BY_KEY.get(re.sub(r"[\s\-']+", " ", name.casefold()).strip())


def suggest_comune(name: str) -> str | None:
    """The closest known comune to a misspelt name, for error messages."""
    close = difflib.get_close_matches(name.casefold(), list(_BY_KEY), n=1, cutoff=0.7)
    return _BY_KEY[close[0]] if close else None
