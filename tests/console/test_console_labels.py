"""Labels on cases: add and remove from the case page, admin-defined names, least privilege."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db import label_repo
from bot.db.console_models import AuditEntry, HandoffLabel
from tests.console.conftest import login, queue_resident


def post(web: TestClient, path: str, csrf: str, **data: str) -> int:
    resp = web.post(path, data={"csrf_token": csrf, **data}, follow_redirects=False)
    return resp.status_code


def labels(sessions: sessionmaker[Session], hid: int) -> list[str]:
    with sessions() as s:
        return list(
            s.scalars(
                select(HandoffLabel.label)
                .where(HandoffLabel.handoff_id == hid)
                .order_by(HandoffLabel.label)
            )
        )


def test_an_operator_labels_a_case_and_takes_a_label_off(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    hid = queue_resident(sessions, address="resident-web-lab1")
    anna = login(client, "anna")
    assert post(client, f"/operator/handoffs/{hid}/labels", anna, label="  Da  Richiamare ") == 303
    assert post(client, f"/operator/handoffs/{hid}/labels", anna, label="ISEE") == 303
    assert post(client, f"/operator/handoffs/{hid}/labels", anna, label="isee") == 303  # once
    assert labels(sessions, hid) == ["da richiamare", "isee"]
    page = client.get(f"/operator/handoffs/{hid}").text
    assert '<span class="label">da richiamare</span>' in page
    assert '<li class="label">isee</li>' in client.get("/operator").text  # on the queue card
    assert post(client, f"/operator/handoffs/{hid}/labels/delete", anna, label="ISEE") == 303
    assert labels(sessions, hid) == ["da richiamare"]
    assert post(client, f"/operator/handoffs/{hid}/labels", anna, label="<script>") == 422
    assert post(client, f"/operator/handoffs/{hid}/labels", anna, label="x" * 33) == 422
    with sessions() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.handoff_id == hid)))
    assert actions.count("label_add") == 3 and actions.count("label_remove") == 1


def test_another_social_points_case_cannot_be_labelled(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    hid = queue_resident(sessions, address="resident-web-lab2", point="tradate")
    with sessions.begin() as s:
        label_repo.add(s, handoff_id=hid, label="riservata", operator_id=operators["anna"])
    bruno = login(client, "bruno")
    assert post(client, f"/operator/handoffs/{hid}/labels", bruno, label="mia") == 404
    assert post(client, f"/operator/handoffs/{hid}/labels/delete", bruno, label="riservata") == 404
    assert labels(sessions, hid) == ["riservata"]
    assert "riservata" not in client.get("/operator").text
    # Without the CSRF token nothing happens either.
    assert post(client, f"/operator/handoffs/{hid}/labels", "wrong", label="mia") == 403


def test_admins_define_the_labels_offered_and_operators_may_not(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    anna_web = TestClient(client.app)
    anna = login(anna_web, "anna")
    assert post(anna_web, "/operator/admin/labels", anna, name="urgente") == 403
    assert anna_web.get("/operator/admin/labels").status_code == 403
    carla = login(client, "carla")
    assert post(client, "/operator/admin/labels", carla, name="Urgente") == 303
    assert post(client, "/operator/admin/labels", carla, name="urgente") == 303  # once
    assert post(client, "/operator/admin/labels", carla, name="!!") == 422
    with sessions() as s:
        [defined] = label_repo.defined(s)
    assert defined.name == "urgente"
    hid = queue_resident(sessions, address="resident-web-lab3")
    assert '<option value="urgente">' in anna_web.get(f"/operator/handoffs/{hid}").text
    assert post(anna_web, f"/operator/admin/labels/{defined.id}/delete", anna) == 403
    assert post(client, f"/operator/admin/labels/{defined.id}/delete", carla) == 303
    with sessions() as s:
        assert label_repo.defined(s) == []
