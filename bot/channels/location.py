"""A shared location (Telegram pin, WhatsApp location) -> the nearest comune of the Ambito.

Residents often answer "where do you live?" by sharing their position; the flow only needs
the comune, so the coordinates are turned into a name here and never stored.
"""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

# Approximate centroids (WGS84) of the 8 comuni of the Ambito di Tradate and of the bordering
# comuni in catalog.comuni.VICINI: nearest-centroid is good enough to pick a comune, and
# residents on a border can still correct it by typing.
CENTROIDS: dict[str, tuple[float, float]] = {
    "Tradate": (45.7091, 8.9079),
    "Castelseprio": (45.7247, 8.8600),
    "Castiglione Olona": (45.7526, 8.8732),
    "Gornate Olona": (45.7411, 8.8624),
    "Lonate Ceppino": (45.7060, 8.8720),
    "Vedano Olona": (45.7758, 8.8867),
    "Venegono Inferiore": (45.7366, 8.9003),
    "Venegono Superiore": (45.7545, 8.9002),
    "Binago": (45.7800, 8.9233),
    "Cairate": (45.6875, 8.8742),
    "Carbonate": (45.6850, 8.9383),
    "Carnago": (45.7211, 8.8364),
    "Castelnuovo Bozzente": (45.7664, 8.9397),
    "Gazzada Schianno": (45.7789, 8.8275),
    "Locate Varesino": (45.6886, 8.9306),
    "Lozza": (45.7750, 8.8550),
    "Malnate": (45.7925, 8.8833),
    "Morazzone": (45.7625, 8.8264),
    "Mozzate": (45.6764, 8.9556),
    "Varese": (45.8206, 8.8251),
}
MAX_DISTANCE_KM = 15.0
_EARTH_RADIUS_KM = 6371.0088


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in kilometres between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(radians, (*a, *b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))


def nearest_comune(
    latitude: float, longitude: float, *, max_km: float = MAX_DISTANCE_KM
) -> str | None:
    """The comune whose centroid is nearest to the point, if within `max_km` of it.

    Args:
        latitude: degrees north, -90..90.
        longitude: degrees east, -180..180.
        max_km: beyond this distance from every centroid the point is "elsewhere".

    Returns:
        The canonical name ("Venegono Superiore"), or None when the point is far away
        or not a valid coordinate.
    """
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return None  # also rejects NaN, which fails every comparison
    point = (latitude, longitude)
    name, distance = min(
        ((n, haversine_km(point, c)) for n, c in CENTROIDS.items()), key=lambda nd: nd[1]
    )
    return name if distance <= max_km else None


def location_payload(latitude: float, longitude: float) -> str | None:
    """The payload the flow understands: `comune:<Name>`, or `location:far` outside the area."""
    comune = nearest_comune(latitude, longitude)
    return f"comune:{comune}" if comune else "location:far"
