"""The codes `catalog.matching` explains its suggestions with.

The resident-facing sentences live in the flows' messages file, keyed by these values;
every param is a string. Dates are ISO 8601 (`2027-03-01`), months Italian names
(`giugno`), amounts plain numbers in euro without decimals when whole (`15000`), ages
years formatted with `%g` (`1.5`), times `HH:MM`. A param that does not apply is "".
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import NamedTuple


class ReasonCode(StrEnum):
    """Why a service suits the need.

    - ``stesso_comune``: a sede is in the resident's comune. Params: ``comune``.
    - ``comune_servito``: the service covers the resident's comune (sede elsewhere).
      Params: ``comune``.
    - ``eta_compresa``: at least one of the given ages is within the service's range.
      Params: ``eta`` (the ages that fit, comma separated), ``eta_min``, ``eta_max``.
    - ``per_familiare``: the service is meant for that family member. Params: ``familiare``.
    - ``orario_compatibile``: open at least until the time the resident needs.
      Params: ``alle`` (latest weekday closing time).
    - ``isee_compatibile``: the given ISEE is within the cap. Params: ``isee_max``, ``isee_tipo``.
    - ``domanda_aperta``: the application window is open today. Params: ``dal``, ``al``.
    - ``gratuito``: free of charge. No params.
    - ``costo_isee``: the price depends on ISEE or is a share set by the comune. No params.
    """

    STESSO_COMUNE = "stesso_comune"
    COMUNE_SERVITO = "comune_servito"
    ETA_COMPRESA = "eta_compresa"
    PER_FAMILIARE = "per_familiare"
    ORARIO_COMPATIBILE = "orario_compatibile"
    ISEE_COMPATIBILE = "isee_compatibile"
    DOMANDA_APERTA = "domanda_aperta"
    GRATUITO = "gratuito"
    MESI_COMPATIBILI = "mesi_compatibili"
    APRE_PRESTO = "apre_presto"
    APERTO_SABATO = "aperto_sabato"
    APERTO_SERA = "aperto_sera"
    COSTO_ISEE = "costo_isee"


class CheckCode(StrEnum):
    """What the resident should verify before counting on the service.

    - ``isee_max``: an ISEE certificate under a cap is required (the resident's ISEE is
      unknown). Params: ``isee_max``, ``isee_tipo`` (e.g. ``socio-sanitario``).
    - ``finestra_domanda``: applications only within a window. Params: ``dal``, ``al``,
      ``stato`` (``aperta`` | ``futura`` | ``chiusa`` relative to today).
    - ``residenza_richiesta``: only residents of some comuni (the resident's comune is
      unknown). Params: ``comuni`` (comma separated).
    - ``valutazione_assistente_sociale``: access after a social worker's assessment (the
      bot should offer an operator). No params.
    - ``periodo_attivita``: the service runs only in a period. Params: ``dal``, ``al`` (ISO
      dates, or first/last month names), ``mesi`` (month names, comma separated, or ""),
      ``in_corso`` (``si`` | ``no``: whether today is inside the period).
    - ``genitori_lavoratori``: reserved to (or prioritises) working parents, and the profile
      does not say so. No params.
    - ``eta``: the service has an age range and no age is known. Params: ``eta_min``,
      ``eta_max`` ("" for an open bound).
    - ``certificazione``: a certification is required. Params: ``certificazioni``
      (comma separated codes such as ``legge_104``).
    - ``orario``: closes before the time the resident needs. Params: ``alle`` (latest
      weekday closing), ``richiesto``.
    - ``familiari``: the service is meant for other family members. Params: ``familiari``
      (comma separated taxonomy values).
    """

    ISEE_MAX = "isee_max"
    FINESTRA_DOMANDA = "finestra_domanda"
    RESIDENZA_RICHIESTA = "residenza_richiesta"
    VALUTAZIONE = "valutazione_assistente_sociale"
    PERIODO_ATTIVITA = "periodo_attivita"
    GENITORI_LAVORATORI = "genitori_lavoratori"
    ETA = "eta"
    CERTIFICAZIONE = "certificazione"
    ORARIO = "orario"
    FAMILIARI = "familiari"
    MESI = "mesi"
    SABATO = "sabato"


class Note(NamedTuple):
    """A reason or check: a code plus string params for the resident-facing copy.

    A NamedTuple, not a dataclass: matching builds hundreds per query and tuples are the
    cheapest immutable records in CPython.
    """

    code: ReasonCode | CheckCode
    params: Mapping[str, str]
