"""The observatory and data-request pages of the console (admin only), via TestClient."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.console.observatory_data import NAMES
from bot.db.console_models import AuditEntry
from bot.db.models import Conversation, Handoff
from tests.console.conftest import login, queue_resident
from tests.observatory.test_report_needs import add_events

pytestmark = pytest.mark.usefixtures("fast_hashing")  # as for every console test


def add_handoffs(
    sessions: sessionmaker[Session],
    n: int,
    *,
    reason: str = "richiesta",
    rating: int | None = None,
    when: datetime = datetime(2026, 10, 15, tzinfo=UTC),
) -> None:
    """Closed handoffs of `n` residents (the observatory reads reasons and ratings)."""
    with sessions.begin() as s:
        for _ in range(n):
            conv = Conversation(channel="webchat", address=f"obs-{reason}-{rating}-{_}-{n}")
            s.add(conv)
            s.flush()
            s.add(
                Handoff(
                    conversation_id=conv.id,
                    reason=reason,
                    social_point="tradate",
                    status="closed",
                    rating=rating,
                    created_at=when,
                )
            )


def seed(sessions: sessionmaker[Session]) -> None:
    add_events(sessions, 6, comune="Tradate")
    add_events(sessions, 2, comune="Vedano Olona", matched=False)
    add_events(sessions, 5, month="2026-11", categoria="caregiver", channel="telegram")
    add_handoffs(sessions, 6, reason="nessun_servizio", rating=5)
    add_handoffs(sessions, 2, reason="emergenza", rating=2)


def test_admin_sees_charts_tables_and_suppression(
    client: TestClient,
    operators: dict[str, int],
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions)
    login(client, "carla")
    page = client.get("/operator/admin/observatory")
    assert page.status_code == 200
    assert page.text.count('<svg role="img"') == 4
    assert "&lt;5" in page.text  # Vedano Olona's 2 requests
    assert "Vedano Olona" in page.text and ">6<" in page.text
    # Themes and reasons by the names people read, in the charts and in the tables.
    assert "Nido e bimbi 0-3 anni</td>" in page.text and "Badante e chi assiste" in page.text
    assert "Nessun servizio adatto</td>" in page.text
    assert "prima_infanzia" not in page.text and "nessun_servizio" not in page.text
    for name in NAMES:
        assert f"/operator/admin/observatory/charts/{name}.png" in page.text
    filtered = client.get("/operator/admin/observatory", params={"channel": "telegram"})
    assert "Badante e chi assiste" in filtered.text
    assert "Tradate</td><td>2026-10" not in filtered.text
    assert f"charts/{NAMES[0]}.csv?channel=telegram" in filtered.text
    assert "non registrano il comune" not in filtered.text
    tradate = client.get("/operator/admin/observatory", params={"comune": "Tradate"})
    assert tradate.text.count("non registrano il comune") == 2  # reasons and scores
    assert client.get("/operator/admin/observatory/charts/altro.png").status_code == 404
    assert client.get(f"/operator/admin/observatory/charts/{NAMES[0]}.pdf").status_code == 404


@pytest.mark.parametrize(
    ("fmt", "media", "magic"),
    [
        ("png", "image/png", b"\x89PNG"),
        ("svg", "image/svg+xml", b"<?xml"),
        ("csv", "text/csv", b""),  # headers differ: checked below
    ],
)
def test_each_chart_downloads_with_the_page_filters(
    client: TestClient,
    operators: dict[str, int],
    sessions: sessionmaker[Session],
    fmt: str,
    media: str,
    magic: bytes,
) -> None:
    seed(sessions)
    login(client, "carla")
    for name in NAMES:
        resp = client.get(f"/operator/admin/observatory/charts/{name}.{fmt}")
        assert resp.status_code == 200, name
        assert resp.headers["content-type"].startswith(media)
        assert resp.headers["content-disposition"] == f'attachment; filename="{name}.{fmt}"'
        assert resp.content.startswith(magic)
    if fmt == "csv":
        trend = client.get(f"/operator/admin/observatory/charts/{NAMES[0]}.csv?channel=telegram")
        assert list(csv.reader(io.StringIO(trend.text))) == [
            ["Mese", "Tema", "Richieste"],
            ["2026-11", "Badante e chi assiste", "5"],
        ]
        reasons = client.get(f"/operator/admin/observatory/charts/{NAMES[2]}.csv")
        assert reasons.text.splitlines()[1:] == ["Nessun servizio adatto,6", "Emergenza,<5"]
    if fmt == "svg":
        svg = client.get(f"/operator/admin/observatory/charts/{NAMES[3]}.svg").text
        assert ">Voto, da 1 (poco utile) a 5 (molto utile)</text>" in svg


def test_csv_download_applies_filters_and_suppression(
    client: TestClient,
    operators: dict[str, int],
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions)
    login(client, "carla")
    resp = client.get(
        "/operator/admin/observatory.csv", params={"from": "2026-10", "to": "2026-10"}
    )
    assert resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.text)))
    assert rows[1:] == [
        ["prima_infanzia", "Tradate", "2026-10", "6", "<5", "<5"],
        ["prima_infanzia", "Vedano Olona", "2026-10", "<5", "<5", "<5"],
    ]


def test_operators_are_refused(
    client: TestClient,
    operators: dict[str, int],
) -> None:
    login(client, "anna")
    assert client.get("/operator/admin/observatory").status_code == 403
    assert client.get("/operator/admin/observatory.csv").status_code == 403
    for fmt in ("csv", "png", "svg"):
        assert client.get(f"/operator/admin/observatory/charts/{NAMES[0]}.{fmt}").status_code == 403
    assert client.get("/operator/admin/privacy").status_code == 403


def test_admin_exports_and_erases_a_resident(
    client: TestClient,
    operators: dict[str, int],
    sessions: sessionmaker[Session],
) -> None:
    queue_resident(sessions, address="resident-erase-1")
    csrf = login(client, "carla")
    form = {"channel": "webchat", "address": "resident-erase-1", "csrf_token": csrf}
    exported = client.post("/operator/admin/privacy/export", data=form)
    assert exported.json()["tables"]["messages"][0]["text"] == "vorrei parlare con qualcuno"
    refused = client.post("/operator/admin/privacy/erase", data=form)  # no confirmation
    assert refused.status_code == 422
    done = client.post("/operator/admin/privacy/erase", data={**form, "confirm": "CANCELLA"})
    assert done.status_code == 200 and "Cancellazione eseguita" in done.text
    with sessions() as s:
        assert s.scalars(select(Handoff)).all() == []
        trail = s.scalars(select(AuditEntry).where(AuditEntry.action.like("privacy_%"))).all()
    assert [(e.action, e.operator_id) for e in trail] == [
        ("privacy_export", operators["carla"]),
        ("privacy_erase", operators["carla"]),
    ]
    assert (
        client.post("/operator/admin/privacy/erase", data={**form, "csrf_token": "x"}).status_code
        == 403
    )
