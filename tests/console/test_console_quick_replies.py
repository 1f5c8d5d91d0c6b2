"""Quick replies with variables, filled in server-side for one case."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.console import quick
from bot.db import console_repo
from bot.db.catalog_models import CatalogServiceRow
from bot.db.console_models import QuickReply
from bot.db.models import Handoff
from tests.console.conftest import login, queue_resident


def add_reply(sessions: sessionmaker[Session], text: str) -> int:
    with sessions.begin() as s:
        console_repo.save_quick_reply(s, reply_id=None, title="Saluto", text=text)
        s.flush()
        return s.scalars(select(QuickReply.id).where(QuickReply.text == text)).one()


def test_render_fills_known_variables_and_leaves_the_rest_visible() -> None:
    text, missing = quick.render(
        "Sono {nome} di {sede}: per {servizio} a {comune}, {boh}.",
        {"nome": "Anna Rossi", "sede": "Social Point Tradate", "servizio": None, "comune": "X"},
    )
    assert text == "Sono Anna Rossi di Social Point Tradate: per {servizio} a X, {boh}."
    assert missing == ["{servizio}", "{boh}"]
    assert quick.unknown("{nome} {Nome} {sede} {x}{x} {a b}") == ["Nome", "x"]


def test_the_endpoint_renders_a_quick_reply_for_the_case(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    hid = queue_resident(sessions, address="resident-web-q1")
    with sessions.begin() as s:
        service = s.scalars(select(CatalogServiceRow).limit(2)).all()
        h = s.get(Handoff, hid)
        assert h is not None and len(service) == 2
        h.summary = {**h.summary, "servizi_suggeriti": [service[0].id, service[1].id]}
        last = service[1].nome
    rid = add_reply(sessions, "Ciao, sono {nome} ({sede}). Per {servizio} a {comune}: {altro}")
    login(client, "anna")
    resp = client.get(f"/operator/handoffs/{hid}/quick-replies/{rid}")
    assert resp.status_code == 200
    assert resp.json() == {
        "text": f"Ciao, sono Anna Rossi (Social Point Tradate). Per {last} a Tradate: {{altro}}",
        "missing": ["{altro}"],
    }
    assert client.get(f"/operator/handoffs/{hid}/quick-replies/99999").status_code == 404
    page = client.get(f"/operator/handoffs/{hid}").text
    assert 'id="quick-pick"' not in page  # only the holder has the reply box


def test_another_social_points_case_is_not_rendered(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    hid = queue_resident(sessions, address="resident-web-q2", point="tradate")
    rid = add_reply(sessions, "Per {comune}")
    login(client, "bruno")
    resp = client.get(f"/operator/handoffs/{hid}/quick-replies/{rid}")
    assert resp.status_code == 404
    assert "Tradate" not in resp.text


def test_an_admin_is_told_of_an_unknown_variable(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    carla = login(client, "carla")
    resp = client.post(
        "/operator/admin/quick-replies",
        data={"csrf_token": carla, "title": "Orari", "text": "Ciao {nomee}, a {sede}"},
        follow_redirects=False,
    )
    assert resp.status_code == 422
    assert "Variabile sconosciuta: {nomee}. Puoi usare {nome}, {servizio}, {comune}, {sede}." in (
        resp.text
    )
    assert "Ciao {nomee}, a {sede}</textarea>" in resp.text  # what was typed is kept
    with sessions() as s:
        assert console_repo.quick_replies(s) == []
    ok = client.post(
        "/operator/admin/quick-replies",
        data={"csrf_token": carla, "title": "Orari", "text": "Ciao, sono {nome} di {sede}"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
