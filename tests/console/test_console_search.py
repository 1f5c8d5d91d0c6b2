"""Search over cases on the queue page, and the resident's earlier cases on the case page."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.db import conversation_repo as repo
from bot.db import label_repo
from bot.db.base import utcnow
from bot.db.models import Direction, Handoff
from tests.console.conftest import login, queue_resident


def post(web: TestClient, hid: int, action: str, csrf: str, **data: str) -> int:
    resp = web.post(
        f"/operator/handoffs/{hid}/{action}",
        data={"csrf_token": csrf, **data},
        follow_redirects=False,
    )
    return resp.status_code


def _set(sessions: sessionmaker[Session], hid: int, **summary: object) -> None:
    with sessions.begin() as s:
        h = s.get(Handoff, hid)
        assert h is not None
        h.summary = {**(h.summary or {}), **summary}


def results(web: TestClient, **params: str) -> str:
    resp = web.get("/operator", params=params)
    assert resp.status_code == 200, resp.text
    return resp.text.split('id="results"', 1)[1].split("</section>", 1)[0]


def ids(html: str) -> set[int]:
    import re

    return {int(i) for i in re.findall(r'href="/operator/handoffs/(\d+)"', html)}


def test_filters_comune_theme_status_dates_and_label(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    nido = queue_resident(sessions, address="resident-web-s1")  # Tradate, prima_infanzia
    anziani = queue_resident(sessions, address="resident-web-s2")
    _set(sessions, anziani, comune="Venegono Inferiore", categoria="domiciliarita")
    old = queue_resident(sessions, address="resident-web-s3")
    with sessions.begin() as s:
        h = s.get(Handoff, old)
        assert h is not None
        h.created_at = utcnow() - timedelta(days=40)
        label_repo.add(s, handoff_id=nido, label="isee", operator_id=None)
    anna = login(client, "anna")
    assert ids(results(client, comune="Tradate")) == {nido, old}
    found = results(client, tema="domiciliarita")
    assert ids(found) == {anziani} and "Aiuto a casa per anziani" in found
    assert ids(results(client, etichetta="ISEE")) == {nido}
    since = (utcnow() - timedelta(days=7)).date().isoformat()
    assert ids(results(client, dal=since)) == {nido, anziani}
    until = (utcnow() - timedelta(days=30)).date().isoformat()
    assert ids(results(client, al=until)) == {old}
    assert post(client, nido, "take", anna) == 303
    assert ids(results(client, stato="active")) == {nido}
    assert ids(results(client, stato="waiting", comune="Tradate")) == {old}
    assert "Nessuna richiesta con questi filtri." in results(client, comune="Tradate", tema="x")
    assert client.get("/operator", params={"dal": "ieri"}).status_code == 422
    # No filter: no results section, the queue as before.
    assert 'id="results"' not in client.get("/operator").text


def test_operators_find_only_what_they_may_see_and_never_search_texts(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    ours = queue_resident(sessions, address="resident-web-s4", point="tradate")
    theirs = queue_resident(sessions, address="resident-web-s5", point="vedano-olona")
    bruno_web = TestClient(client.app)
    bruno = login(bruno_web, "bruno")
    assert post(bruno_web, theirs, "take", bruno) == 303
    assert post(bruno_web, theirs, "resolve", bruno) == 303
    login(client, "anna")
    assert ids(results(client, comune="Tradate")) == {ours}
    assert ids(results(client, stato="closed")) == set()  # Bruno's closed case stays his
    assert ids(results(bruno_web, stato="closed")) == {theirs}  # he held it
    assert ids(results(bruno_web, comune="Tradate")) == {theirs}  # never Anna's
    # Free text is for admins: an operator's `testo` is ignored and the field not shown.
    page = client.get("/operator", params={"testo": "qualcuno", "comune": "Tradate"}).text
    assert 'name="testo"' not in page
    assert ids(results(client, testo="nessuna-parola-così", comune="Tradate")) == {ours}


def test_admins_search_the_decrypted_texts_of_each_cases_own_part(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    first = queue_resident(sessions, address="resident-web-s6")
    anna = login(client, "anna")
    assert post(client, first, "take", anna) == 303
    assert post(client, first, "reply", anna, text="Le mando il modulo ISEE") == 303
    assert post(client, first, "resolve", anna) == 303
    second = queue_resident(sessions, address="resident-web-s6")
    with sessions.begin() as s:
        conv = repo.lock_conversation(s, channel="webchat", address="resident-web-s6")
        repo.add_message(s, conversation=conv, direction=Direction.INBOUND, text="Centro ESTIVO?")
    carla = TestClient(client.app)
    login(carla, "carla")
    assert 'name="testo"' in carla.get("/operator").text
    assert ids(results(carla, testo="modulo isee")) == {first}
    assert ids(results(carla, testo="centro estivo")) == {second}
    assert ids(results(carla, testo="vorrei parlare")) == {first, second}
    assert ids(results(carla, testo="niente del genere")) == set()


def test_earlier_cases_are_listed_beside_the_current_one(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    address = "resident-web-s7"
    mine = queue_resident(sessions, address=address, point="tradate")
    anna = login(client, "anna")
    assert post(client, mine, "take", anna) == 303
    assert post(client, mine, "resolve", anna) == 303
    with sessions.begin() as s:
        h = s.get(Handoff, mine)
        assert h is not None
        h.rating = 4
    at_vedano = queue_resident(sessions, address=address, point="vedano-olona")
    bruno_web = TestClient(client.app)
    bruno = login(bruno_web, "bruno")
    assert post(bruno_web, at_vedano, "take", bruno) == 303
    assert post(bruno_web, at_vedano, "resolve", bruno) == 303
    colleague = queue_resident(sessions, address=address, point="tradate")
    with sessions.begin() as s:  # closed by a colleague at Tradate: listed, not openable
        h = s.get(Handoff, colleague)
        assert h is not None
        h.status, h.operator_id, h.closed_at = "closed", 999, utcnow()
    now = queue_resident(sessions, address=address, point="tradate")
    page = client.get(f"/operator/handoffs/{now}").text
    history = page.split('id="history-title"', 1)[1].split("</section>", 1)[0]
    assert ids(history) == {mine}
    assert "Nido e bimbi 0-3 anni" in history and "voto 4/5" in history
    assert "non visibile" in history  # the colleague's case: date and outcome, no link
    assert history.count("<tr>") == 3  # header, mine, the colleague's; never Vedano's
    carla = TestClient(client.app)
    login(carla, "carla")
    admin_history = carla.get(f"/operator/handoffs/{now}").text.split('id="history-title"')[1]
    assert ids(admin_history.split("</section>", 1)[0]) == {mine, at_vedano, colleague}
