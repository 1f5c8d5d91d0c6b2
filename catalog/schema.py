"""The service record: the Designers Italia service card, CPSV-AP_IT, schema.org GovernmentService.

Field names are Italian because the network's staff edit them in YAML. The card's sections
map as: A chi è rivolto -> destinatari, eta_min/eta_max, requisiti; Come fare / Cosa serve
-> accesso; Quanto costa -> costo; Tempi e scadenze -> periodo_attivita,
accesso.finestra_domanda; Contatti -> contatti, sedi, orari. schema.org: ente_titolare ~
`serviceOperator`, area_servita ~ `areaServed`, sedi ~ `availableChannel.serviceLocation`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, time
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
)
from pydantic import model_validator as _model_validator

from catalog.comuni import suggest_comune, territory_comune
from catalog.taxonomy import FAMILIARI, NEED_CATEGORIES
from catalog.vocab import (
    MESI,
    Canale,
    Certificazione,
    Giorno,
    IseeTipo,
    ModelloCosto,
    Provenienza,
    Tipo,
    Unita,
)

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _comune(value: str, info: ValidationInfo) -> str:
    # The loader passes the territory's places; stored services were checked on import.
    places = (info.context or {}).get("places")
    if places is None:
        return value.strip()
    canon = territory_comune(value, places)
    if canon is None:
        hint = suggest_comune(value, places)
        raise ValueError(f"comune sconosciuto {value!r}" + (f" (forse {hint!r}?)" if hint else ""))
    return canon


def _categoria(value: str) -> str:
    if value not in NEED_CATEGORIES:
        raise ValueError(f"categoria {value!r} non prevista: una tra {', '.join(NEED_CATEGORIES)}")
    return value


def _familiare(value: str) -> str:
    if value not in FAMILIARI:
        raise ValueError(f"familiare {value!r} non previsto: uno tra {', '.join(FAMILIARI)}")
    return value


def _italian_bool(value: Any) -> Any:
    # Staff write "sì"/"si"; YAML only knows yes/no/true/false.
    if isinstance(value, str) and value.strip().casefold() in {"si", "sì"}:
        return True
    return value


def _hhmm(value: Any) -> Any:
    # "7:30" and "7.30" are how people write hours; pydantic wants "07:30".
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}[:.]\d{2}", value.strip()):
        hours, minutes = re.split(r"[:.]", value.strip())
        return f"{int(hours):02d}:{minutes}"
    return value


def _month(value: Any) -> Any:
    if isinstance(value, str) and value.strip().casefold() in MESI:
        return MESI.index(value.strip().casefold()) + 1
    return value


Comune = Annotated[str, AfterValidator(_comune)]
Bool = Annotated[bool, BeforeValidator(_italian_bool)]
Testo = Annotated[str, Field(min_length=1)]
Euro = Annotated[float, Field(ge=0)]
Mese = Annotated[int, BeforeValidator(_month), Field(ge=1, le=12)]
# HH:MM in files and JSON, a real `time` in Python.
Ora = Annotated[
    time, BeforeValidator(_hhmm), PlainSerializer(lambda t: t.strftime("%H:%M"), when_used="json")
]


class _Model(BaseModel):
    # forbid: a misspelt field name is a reported problem, not silently dropped data.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Requisiti(_Model):
    """Who is eligible (A chi è rivolto)."""

    comuni_residenza: tuple[Comune, ...] = ()  # empty: no residence requirement
    genitori_lavoratori: Bool = False
    isee_max: Euro | None = None
    isee_tipo: IseeTipo | None = None
    certificazioni: tuple[Certificazione, ...] = ()
    nota: str | None = None

    @_model_validator(mode="after")
    def _isee(self) -> Requisiti:
        if self.isee_max is not None and self.isee_tipo is None:
            raise ValueError(
                "isee_max richiede isee_tipo (ordinario, minorenni, socio-sanitario...)"
            )
        return self


class Sede(_Model):
    """A place where the service is delivered."""

    nome: Testo
    indirizzo: Testo
    comune: Comune
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None

    @_model_validator(mode="after")
    def _coords(self) -> Sede:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat e lon vanno indicate insieme")
        return self


class Fascia(_Model):
    """Opening hours on some weekdays, e.g. lun-ven 07:30-18:00."""

    giorni: tuple[Giorno, ...] = Field(min_length=1)
    dalle: Ora
    alle: Ora

    @field_validator("alle")
    @classmethod
    def _order(cls, alle: time, info: ValidationInfo) -> time:
        # A field validator, so that the problem points at 'alle' and its line.
        dalle = info.data.get("dalle")
        if dalle is not None and dalle >= alle:
            raise ValueError(f"'alle' ({alle:%H:%M}) deve seguire 'dalle' ({dalle:%H:%M})")
        return alle


class Orari(_Model):
    """Structured weekly hours plus a free note (closures, exceptions)."""

    fasce: tuple[Fascia, ...] = ()
    nota: str | None = None


class Periodo(_Model):
    """When the service runs: two dates, or recurring months (centri estivi: 6, 7, 8)."""

    dal: date | None = None
    al: date | None = None
    mesi: tuple[Mese, ...] = ()

    @_model_validator(mode="after")
    def _shape(self) -> Periodo:
        if self.mesi and (self.dal or self.al):
            raise ValueError("indicare le date (dal/al) oppure i mesi, non entrambi")
        if not self.mesi and (self.dal is None or self.al is None):
            raise ValueError("indicare sia 'dal' sia 'al' (oppure 'mesi')")
        if self.dal and self.al and self.dal > self.al:
            raise ValueError(f"'dal' ({self.dal}) è successivo ad 'al' ({self.al})")
        return self


class Finestra(_Model):
    """The application window (date inclusive)."""

    dal: date
    al: date

    @field_validator("al")
    @classmethod
    def _order(cls, al: date, info: ValidationInfo) -> date:
        dal = info.data.get("dal")
        if dal is not None and dal > al:
            raise ValueError(f"'al' ({al}) precede 'dal' ({dal})")
        return al


class Costo(_Model):
    """Quanto costa."""

    modello: ModelloCosto
    importo: Euro | None = None
    unita: Unita | None = None
    percentuale: Annotated[float, Field(gt=0, le=100)] | None = None
    tetto: Euro | None = None
    nota: str | None = None

    @_model_validator(mode="after")
    def _coherent(self) -> Costo:
        m = self.modello
        if m is ModelloCosto.GRATUITO and self.importo:
            raise ValueError("un servizio gratuito non ha importo")
        if m in (ModelloCosto.TARIFFA, ModelloCosto.BUONO) and self.importo is None:
            raise ValueError(f"il modello {m.value!r} richiede 'importo'")
        if m is ModelloCosto.TARIFFA and self.unita is None:
            raise ValueError("il modello 'tariffa' richiede 'unita' (es. 'al mese')")
        if m is ModelloCosto.RIMBORSO and self.percentuale is None:
            raise ValueError("il modello 'rimborso' richiede 'percentuale'")
        if self.percentuale is not None and m is not ModelloCosto.RIMBORSO:
            raise ValueError("'percentuale' vale solo per il modello 'rimborso'")
        return self


class Accesso(_Model):
    """Come fare e cosa serve."""

    canali: tuple[Canale, ...] = ()
    passi: tuple[Testo, ...] = ()
    documenti: tuple[Testo, ...] = ()
    finestra_domanda: Finestra | None = None


class Contatti(_Model):
    """Contatti (at least one)."""

    telefono: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 ./-]{5,}$")] | None = None
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")] | None = None
    web: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None

    @_model_validator(mode="after")
    def _one(self) -> Contatti:
        if not (self.telefono or self.email or self.web):
            raise ValueError("almeno un contatto tra telefono, email e web")
        return self


class Service(_Model):
    """One service or contribution of the catalogue."""

    id: Annotated[str, Field(pattern=SLUG, max_length=80)]
    nome: Annotated[str, Field(min_length=3, max_length=200)]
    descrizione: Annotated[str, Field(min_length=10)]
    categoria: Annotated[str, AfterValidator(_categoria)]
    tipo: Tipo = Tipo.SERVIZIO
    punto_accesso: Bool = False  # a Social Point: a front office, never a match for a need
    destinatari: Testo
    familiari: tuple[Annotated[str, AfterValidator(_familiare)], ...] = ()  # empty: anyone
    eta_min: Annotated[float, Field(ge=0, le=120)] | None = None
    eta_max: Annotated[float, Field(ge=0, le=120)] | None = None
    requisiti: Requisiti = Requisiti()
    ente_titolare: Testo
    erogatore: str | None = None
    accreditamento: str | None = None
    area_servita: tuple[Comune, ...] = Field(min_length=1)
    sedi: tuple[Sede, ...] = ()
    orari: Orari | None = None
    periodo_attivita: Periodo | None = None
    costo: Costo
    accesso: Accesso = Accesso()
    contatti: Contatti
    richiede_valutazione: Bool = False
    fonte: Testo
    data_verifica: date
    provenienza: Provenienza

    @field_validator("eta_max")
    @classmethod
    def _ages(cls, eta_max: float | None, info: ValidationInfo) -> float | None:
        eta_min = info.data.get("eta_min")
        if eta_max is not None and eta_min is not None and eta_min > eta_max:
            raise ValueError(f"eta_max ({eta_max:g}) è minore di eta_min ({eta_min:g})")
        return eta_max

    @field_validator("area_servita")
    @classmethod
    def _unique(cls, comuni: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(comuni)) != len(comuni):
            raise ValueError("area_servita contiene comuni ripetuti")
        return comuni


def validate_service(record: Any, places: Collection[str] | None) -> Service:
    """One service from a catalogue record; its comuni must be among `places` (the
    territory's comuni and neighbours) unless that is None.

    Raises:
        ValidationError: with every problem of the record.
    """
    return Service.model_validate(record, context={"places": places})
