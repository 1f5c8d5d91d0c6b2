"""One territory (an Ambito) as data: its comuni, neighbours, Social Points, offices, time zone.

Each territory is one YAML file (territory/data/<name>.yml); config.yml selects one by name
or by path. Adding an Ambito means adding a file: no code names a comune.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from codicefiscale.data import get_municipalities_data
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic import model_validator as _model_validator

DATA_DIR = Path(__file__).parent / "data"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
# As residents dial it: digits and spaces, an optional +country prefix ("0331 826 811").
_PHONE = r"^\+?\d[\d ]{5,18}\d$"
# Italy's bounding box: catches a latitude and longitude written the wrong way round.
_LAT, _LON = (35.0, 47.5), (6.5, 19.0)


class TerritoryError(Exception):
    """A territory file is missing or invalid; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _in_italy(point: tuple[float, float]) -> tuple[float, float]:
    lat, lon = point
    if not (_LAT[0] <= lat <= _LAT[1] and _LON[0] <= lon <= _LON[1]):
        raise ValueError(f"({lat}, {lon}) is not in Italy: write [latitude, longitude] in degrees")
    return point


Centroid = Annotated[tuple[float, float], AfterValidator(_in_italy)]


class Comune(_Strict):
    """A comune as ANPR knows it; `code` is its codice catastale (Belfiore), e.g. L319."""

    code: str = Field(pattern=r"^[A-Z]\d{3}$")
    centroid: Centroid  # approximate (WGS84): nearest-centroid picks a shared location's comune
    aliases: tuple[str, ...] = ()  # local names prefixes can't explain: dialect, frazioni


class Office(_Strict):
    """A comune's own offices (anagrafe, tributi, polizia locale...), for questions the
    network does not answer."""

    name: str
    web: str
    phone: str | None = None


class SocialPoint(_Strict):
    id: str
    name: str
    address: str
    comuni: tuple[str, ...]
    phone: str = Field(pattern=_PHONE)
    email: str
    hours: dict[str, tuple[str, ...]]

    @property
    def tel(self) -> str:
        """The `tel:` URI in international form, so that a foreign SIM dials Italy too."""
        digits = self.phone.replace(" ", "")
        return f"tel:{digits}" if digits.startswith("+") else f"tel:+39{digits}"

    @field_validator("hours")
    @classmethod
    def _check_hours(cls, hours: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for day, ranges in hours.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
            for r in ranges:
                if not _RANGE.match(r) or r[:5] >= r[6:]:
                    raise ValueError(f"bad time range {r!r} on {day} (use HH:MM-HH:MM)")
        return hours


class Provinces(_Strict):
    """Where the NLU looks first when a resident names a place (province sigle)."""

    own: tuple[str, ...] = Field(min_length=1)  # their comuni rank right after the Ambito's
    near: tuple[str, ...] = ()  # then these, then the rest of Italy
    # Comuni of these provinces are found in free text without a cue ("abito a ..."); the
    # rest of Italy only after one.
    in_free_text: tuple[str, ...] = ()


@functools.cache
def _anpr() -> dict[str, str]:
    """Active comuni of the ANPR list (python-codicefiscale): codice catastale -> name."""
    return {r["code"]: r["name"].casefold() for r in get_municipalities_data() if r.get("active")}


class Territory(_Strict):
    """An Ambito: comuni and neighbours by canonical ISTAT name, in the file's order."""

    name: str
    timezone: str  # IANA name, e.g. Europe/Rome
    provinces: Provinces
    comuni: dict[str, Comune] = Field(min_length=1)
    # Bordering comuni: residents there sometimes use the Ambito's services (and vice versa).
    neighbours: dict[str, Comune] = Field(default_factory=dict)
    urp: Office | None = None  # the general public-relations office, when a comune has none
    offices: dict[str, Office] = Field(default_factory=dict)  # by comune
    social_points: tuple[SocialPoint, ...] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r} (e.g. Europe/Rome)") from exc
        return name

    @_model_validator(mode="after")
    def _consistent(self) -> Territory:
        if both := sorted(set(self.comuni) & set(self.neighbours)):
            raise ValueError(f"both a comune and a neighbour: {', '.join(both)}")
        seen: dict[str, str] = {}
        anpr = _anpr()
        for name, comune in self.places.items():
            if comune.code in seen:
                raise ValueError(f"code {comune.code} of {name} is also {seen[comune.code]}'s")
            seen[comune.code] = name
            if anpr.get(comune.code) != name.casefold():
                raise ValueError(f"unknown comune {name!r} ({comune.code}): not in the ANPR list")
        if unknown := sorted(set(self.offices) - set(self.comuni)):
            raise ValueError(f"offices for comuni outside the territory: {', '.join(unknown)}")
        for point in self.social_points:
            if unknown := sorted(set(point.comuni) - set(self.comuni)):
                raise ValueError(f"Social Point {point.id} serves unknown {', '.join(unknown)}")
        return self

    @property
    def places(self) -> dict[str, Comune]:
        """The comuni and then the neighbours: every place a service may serve."""
        return self.comuni | self.neighbours

    @property
    def centroids(self) -> dict[str, tuple[float, float]]:
        return {name: comune.centroid for name, comune in self.places.items()}

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"


def territory_path(selector: str, base: Path) -> Path:
    """The file config.yml's `territory:` names: a shipped territory ("tradate") or a path
    to a YAML file (relative to `base`, config.yml's folder)."""
    if re.fullmatch(r"[a-z0-9_-]+", selector):
        return DATA_DIR / f"{selector}.yml"
    return base / selector


def shipped_territory(name: str) -> Territory:
    """A territory of territory/data/ by name ("tradate")."""
    return load_territory(DATA_DIR / f"{name}.yml")


def load_territory(path: Path) -> Territory:
    """Reads and validates one territory file.

    Raises:
        TerritoryError: with one line naming the file and the key.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TerritoryError(f"{path}: territory file not found") from exc
    except yaml.YAMLError as exc:
        raise TerritoryError(f"{path}: not valid YAML ({exc.__class__.__name__})") from exc
    return parse_territory(raw, str(path))


def parse_territory(raw: object, where: str) -> Territory:
    """Validates a territory already read (a file's content, or config.yml's inline section)."""
    try:
        return Territory.model_validate(raw or {})
    except ValidationError as exc:
        raise TerritoryError(f"{where}: {_first_error(exc)}") from exc
