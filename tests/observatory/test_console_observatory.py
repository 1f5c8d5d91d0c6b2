"""The observatory and data-request pages of the console (admin only), via TestClient."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.console_models import AuditEntry
from bot.db.models import Handoff
from tests.console.conftest import (  # noqa: F401  (fixtures)
    FakeRasa,
    client,
    fake_rasa,
    fast_hashing,
    login,
    operators,
    queue_resident,
)
from tests.observatory.test_report_needs import add_events


def seed(sessions: sessionmaker[Session]) -> None:
    add_events(sessions, 6, comune="Tradate")
    add_events(sessions, 2, comune="Vedano Olona", matched=False)
    add_events(sessions, 5, month="2026-11", categoria="caregiver", channel="telegram")


def test_admin_sees_charts_tables_and_suppression(
    client: TestClient,  # noqa: F811
    operators: dict[str, int],  # noqa: F811
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions)
    login(client, "carla")
    page = client.get("/operator/admin/observatory")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3
    assert "&lt;5" in page.text  # Vedano Olona's 2 requests
    assert "Vedano Olona" in page.text and ">6<" in page.text
    filtered = client.get("/operator/admin/observatory", params={"channel": "telegram"})
    assert "caregiver" in filtered.text and "Tradate</td><td>2026-10" not in filtered.text


def test_csv_download_applies_filters_and_suppression(
    client: TestClient,  # noqa: F811
    operators: dict[str, int],  # noqa: F811
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
    client: TestClient,  # noqa: F811
    operators: dict[str, int],  # noqa: F811
) -> None:
    login(client, "anna")
    assert client.get("/operator/admin/observatory").status_code == 403
    assert client.get("/operator/admin/observatory.csv").status_code == 403
    assert client.get("/operator/admin/privacy").status_code == 403


def test_admin_exports_and_erases_a_resident(
    client: TestClient,  # noqa: F811
    operators: dict[str, int],  # noqa: F811
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
