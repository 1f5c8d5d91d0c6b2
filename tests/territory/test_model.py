"""The territory file: one typed model, and errors that name the file and the key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from territory.calendar import holiday_name
from territory.model import DATA_DIR, TerritoryError, load_territory, shipped_territory

TRADATE = DATA_DIR / "tradate.yml"


def _broken(tmp_path: Path, change: str, to: str) -> Path:
    text = TRADATE.read_text(encoding="utf-8")
    assert change in text
    path = tmp_path / "t.yml"
    path.write_text(text.replace(change, to, 1), encoding="utf-8")
    return path


def test_the_shipped_territory() -> None:
    t = shipped_territory("tradate")
    assert t.name == "Ambito di Tradate" and str(t.zone) == "Europe/Rome"
    assert len(t.comuni) == 8 and len(t.neighbours) == 12
    assert list(t.places)[:2] == ["Tradate", "Castelseprio"]  # the file's order
    assert t.comuni["Tradate"].aliases[0] == "tradà"
    assert {p.id for p in t.social_points} == {
        "tradate",
        "castiglione-olona",
        "venegono-inferiore",
        "vedano-olona",
    }


@pytest.mark.parametrize(
    ("change", "to", "message"),
    [
        ("Binago: {code: A870", "Binagoo: {code: A870", r"unknown comune 'Binagoo' \(A870\)"),
        ("Cairate: {code: B368", "Cairate: {code: A870", "code A870 of Cairate is also Binago's"),
        (
            "centroid: [45.7091, 8.9079]",
            "centroid: [8.9079, 45.7091]",
            r"comuni\.Tradate\.centroid",
        ),
        ("Lozza: {code:", "Tradate: {code:", "both a comune and a neighbour: Tradate"),
        ("comuni: [Vedano Olona]", "comuni: [Varese]", "Social Point vedano-olona serves unknown"),
        ("timezone: Europe/Rome", "timezone: Europe/Tradate", "unknown time zone"),
        ("  Tradate: {name: Comune", "  Varese: {name: Comune", "offices for comuni outside"),
        ('phone: "0331 826 811"', 'phone: "chiamare"', r"social_points\.0\.phone"),
    ],
)
def test_errors_name_the_file_and_the_key(
    tmp_path: Path, change: str, to: str, message: str
) -> None:
    with pytest.raises(TerritoryError, match=message) as err:
        load_territory(_broken(tmp_path, change, to))
    assert str(err.value).startswith(str(tmp_path / "t.yml")) and "\n" not in str(err.value)


def test_a_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(TerritoryError, match="territory file not found"):
        load_territory(tmp_path / "nope.yml")
    (tmp_path / "bad.yml").write_text("name: [", encoding="utf-8")
    with pytest.raises(TerritoryError, match="not valid YAML"):
        load_territory(tmp_path / "bad.yml")


def test_every_shipped_territory_is_valid() -> None:
    for path in sorted(DATA_DIR.glob("*.yml")):
        assert load_territory(path).name == yaml.safe_load(path.read_text("utf-8"))["name"]


def test_holidays_are_the_italian_national_ones() -> None:
    assert holiday_name(date(2026, 12, 25)) is not None
    assert holiday_name(date(2026, 12, 3)) is None
