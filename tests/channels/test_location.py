"""Shared location -> nearest comune of the Ambito (or of a bordering comune)."""

from __future__ import annotations

import math

import pytest

from bot.channels.location import haversine_km, location_payload, nearest_comune
from territory.model import shipped_territory

TRADATE = shipped_territory("tradate")
CENTROIDS = TRADATE.centroids


def test_the_table_covers_the_ambito_and_its_neighbours() -> None:
    assert list(CENTROIDS) == [*TRADATE.comuni, *TRADATE.neighbours]


def test_haversine_matches_a_known_distance() -> None:
    # Tradate - Varese is about 13 km as the crow flies.
    assert 12 < haversine_km(CENTROIDS["Tradate"], CENTROIDS["Varese"]) < 14
    assert haversine_km((0, 0), (0, 0)) == 0


@pytest.mark.parametrize("name", sorted(CENTROIDS))
def test_each_centroid_maps_to_itself(name: str) -> None:
    assert nearest_comune(*CENTROIDS[name], CENTROIDS) == name


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ((45.7097, 8.9068), "Tradate"),  # Piazza Mazzini
        ((45.7518, 8.8745), "Castiglione Olona"),  # the Collegiata
        ((45.6500, 8.9000), "Cairate"),  # south of the Ambito, still near
        ((45.4642, 9.1900), None),  # Milano, ~30 km
        ((41.9028, 12.4964), None),  # Roma
        ((math.nan, 8.9), None),
        ((45.7, math.inf), None),
        ((91.0, 8.9), None),
    ],
)
def test_points(point: tuple[float, float], expected: str | None) -> None:
    assert nearest_comune(*point, CENTROIDS) == expected


def test_payload_is_what_the_flow_understands() -> None:
    assert location_payload(45.7366, 8.9003, CENTROIDS) == "comune:Venegono Inferiore"
    assert location_payload(45.4642, 9.19, CENTROIDS) == "location:far"
    assert location_payload(45.7366, 8.9003, {}) == "location:far"  # a parser without places
