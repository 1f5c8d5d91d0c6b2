"""A shared location (Telegram pin, WhatsApp location) -> the nearest comune of the territory.

Residents often answer "where do you live?" by sharing their position; the flow only needs
the comune, so the coordinates are turned into a name here and never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import asin, cos, radians, sin, sqrt

# Centroids by comune: the territory's comuni and neighbours (`Territory.centroids`).
Centroids = Mapping[str, tuple[float, float]]
MAX_DISTANCE_KM = 15.0
_EARTH_RADIUS_KM = 6371.0088


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in kilometres between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(radians, (*a, *b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))


def nearest_comune(
    latitude: float, longitude: float, centroids: Centroids, *, max_km: float = MAX_DISTANCE_KM
) -> str | None:
    """The comune whose centroid is nearest to the point, if within `max_km` of it.

    Nearest-centroid is good enough to pick a comune; residents on a border can still
    correct it by typing.

    Args:
        latitude: degrees north, -90..90.
        longitude: degrees east, -180..180.
        centroids: the places to choose from (none: every point is far).
        max_km: beyond this distance from every centroid the point is "elsewhere".

    Returns:
        The canonical name ("Venegono Superiore"), or None when the point is far away
        or not a valid coordinate.
    """
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0) or not centroids:
        return None  # also rejects NaN, which fails every comparison
    point = (latitude, longitude)
    name, distance = min(
        ((n, haversine_km(point, c)) for n, c in centroids.items()), key=lambda nd: nd[1]
    )
    return name if distance <= max_km else None


def location_payload(latitude: float, longitude: float, centroids: Centroids) -> str:
    """The payload the flow understands: `comune:<Name>`, or `location:far` outside the area."""
    comune = nearest_comune(latitude, longitude, centroids)
    return f"comune:{comune}" if comune else "location:far"
