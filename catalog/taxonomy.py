"""The need categories and family roles of the shared taxonomy (the contract with NLU and flows).

The catalogue keeps its own copy so that it never imports `nlu`; a test keeps it equal
to `nlu/taxonomy.yml`.
"""

from __future__ import annotations

NEED_CATEGORIES: tuple[str, ...] = (
    "prima_infanzia",
    "extrascuola",
    "chiusure_scolastiche",
    "domiciliarita",
    "caregiver",
    "disabilita",
    "benessere",
    "lavoro_flessibile",
    "salvatempo",
)

FAMILIARI: tuple[str, ...] = (
    "figlio",
    "figlia",
    "madre",
    "padre",
    "nonno",
    "nonna",
    "marito",
    "moglie",
    "suocero",
    "suocera",
    "fratello",
    "sorella",
    "se_stesso",
)
