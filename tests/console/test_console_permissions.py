"""Operators see only their Social Points' queues; admins see all; views are audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.console_models import AuditEntry
from tests.console.conftest import login, queue_resident


def test_queue_shows_only_the_operators_social_points(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    mine = queue_resident(sessions, address="resident-tradate", point="tradate")
    theirs = queue_resident(sessions, address="resident-vedano", point="vedano-olona")
    login(client, "anna")
    page = client.get("/operator").text
    assert f"Richiesta n. {mine}" in page
    assert f"Richiesta n. {theirs}" not in page


def test_other_social_points_conversations_are_404(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    theirs = queue_resident(sessions, address="resident-vedano", point="vedano-olona")
    csrf = login(client, "anna")
    assert client.get(f"/operator/handoffs/{theirs}").status_code == 404
    assert client.get(f"/operator/handoffs/{theirs}/events").status_code == 404
    for action in ("take", "resolve", "note", "reply"):
        resp = client.post(
            f"/operator/handoffs/{theirs}/{action}", data={"csrf_token": csrf, "text": "ciao"}
        )
        assert resp.status_code == 404, action
    with sessions() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "view")).all() == []


def test_emergencies_come_first_then_the_longest_wait(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    first = queue_resident(sessions, address="resident-aaaa")
    second = queue_resident(sessions, address="resident-bbbb")
    urgent = queue_resident(sessions, address="resident-cccc", priority=True)
    login(client, "anna")
    page = client.get("/operator").text
    order = sorted((page.index(f"Richiesta n. {h} "), h) for h in (first, second, urgent))
    assert [h for _, h in order] == [urgent, first, second]
    assert "Emergenza" in page


def test_admin_sees_every_queue_and_operators_cannot_administer(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    a = queue_resident(sessions, address="resident-tradate", point="tradate")
    b = queue_resident(sessions, address="resident-vedano", point="vedano-olona")
    login(client, "anna")
    assert client.get("/operator/admin/operators").status_code == 403
    assert client.get("/operator/admin/quick-replies").status_code == 403
    admin = TestClient(client.app)
    login(admin, "carla")
    page = admin.get("/operator").text
    assert f"Richiesta n. {a}" in page and f"Richiesta n. {b}" in page
    assert admin.get("/operator/admin/operators").status_code == 200


def test_every_view_of_a_conversation_is_audited(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    hid = queue_resident(sessions, address="resident-tradate")
    login(client, "anna")
    page = client.get(f"/operator/handoffs/{hid}")
    assert page.status_code == 200 and "vorrei parlare con qualcuno" in page.text
    client.get(f"/operator/handoffs/{hid}")
    with sessions() as s:
        views = s.scalars(select(AuditEntry).where(AuditEntry.action == "view")).all()
    assert len(views) == 2
    assert {(v.operator_id, v.handoff_id) for v in views} == {(operators["anna"], hid)}
    assert all(v.conversation_id is not None and v.at is not None for v in views)
