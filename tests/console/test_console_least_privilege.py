"""Least privilege: an operator sees only their case's part of a conversation and acts only
on open cases of their Social Point that they hold or that nobody holds yet."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.console.accounts import create_operator
from bot.settings import Settings
from tests.conftest import PASSWORD
from tests.console.conftest import handoff, login, queue_resident

RESIDENT = "resident-web-lp01"


def post(web: TestClient, hid: int, action: str, csrf: str, **data: str) -> int:
    resp = web.post(
        f"/operator/handoffs/{hid}/{action}",
        data={"csrf_token": csrf, **data},
        follow_redirects=False,
    )
    return resp.status_code


def test_an_old_case_shows_neither_the_next_points_words_nor_its_notes(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    first = queue_resident(sessions, address=RESIDENT, point="tradate")
    anna = login(client, "anna")
    assert post(client, first, "take", anna) == 303
    assert post(client, first, "note", anna, text="nota di anna") == 303
    assert post(client, first, "resolve", anna) == 303
    # The resident comes back; this time the case is Vedano Olona's (Bruno).
    second = queue_resident(sessions, address=RESIDENT, point="vedano-olona")
    bruno_web = TestClient(client.app)
    bruno = login(bruno_web, "bruno")
    assert post(bruno_web, second, "take", bruno) == 303
    assert post(bruno_web, second, "reply", bruno, text="risposta riservata di bruno") == 303
    assert post(bruno_web, second, "note", bruno, text="nota interna di bruno") == 303
    # Anna reopens her old case: her own part only.
    page = client.get(f"/operator/handoffs/{first}").text
    assert "nota di anna" in page
    assert "risposta riservata di bruno" not in page and "nota interna di bruno" not in page
    assert client.get(f"/operator/handoffs/{second}").status_code == 404
    # A closed case takes no more notes; Bruno never sees Anna's notes.
    assert post(client, first, "note", anna, text="aggiunta tardiva") == 409
    assert "nota di anna" not in bruno_web.get(f"/operator/handoffs/{second}").text


def test_a_colleagues_active_case_cannot_be_transferred_or_annotated(
    client: TestClient,
    operators: dict[str, int],
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    create_operator(
        sessions,
        settings,
        email="dora@example.org",
        name="Dora Neri",
        password=PASSWORD,
        role="operator",
        social_points=["tradate"],
    )
    hid = queue_resident(sessions, address=RESIDENT, point="tradate")
    dora_web = TestClient(client.app)
    dora = login(dora_web, "dora")
    assert post(dora_web, hid, "note", dora, text="prima che la prenda qualcuno") == 303
    anna = login(client, "anna")
    assert post(client, hid, "take", anna) == 303
    assert post(dora_web, hid, "transfer", dora, social_point="vedano-olona") == 409
    assert post(dora_web, hid, "note", dora, text="sul caso di anna") == 409
    assert handoff(sessions, hid).social_point == "tradate"
    # The admin may, and it is audited like everything else.
    carla_web = TestClient(client.app)
    carla = login(carla_web, "carla")
    assert post(carla_web, hid, "transfer", carla, social_point="vedano-olona") == 303
    assert handoff(sessions, hid).social_point == "vedano-olona"
