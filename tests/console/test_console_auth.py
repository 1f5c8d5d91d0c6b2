"""Login, sessions, CSRF and login rate limiting of /operator, over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.console_models import AuditEntry, ConsoleSession
from bot.settings import Env, Settings
from tests.conftest import PASSWORD
from tests.console.conftest import csrf_of, login, queue_resident


def audit_actions(sessions: sessionmaker[Session]) -> list[tuple[str, int | None]]:
    with sessions() as s:
        return [
            (a.action, a.operator_id) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_pages_need_a_login(client: TestClient, sessions: sessionmaker[Session]) -> None:
    resp = client.get("/operator", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/operator/login"
    hid = queue_resident(sessions, address="resident-0001")
    assert client.post(f"/operator/handoffs/{hid}/take").status_code == 401
    sse = client.get("/operator/events", headers={"Accept": "text/event-stream"})
    assert sse.status_code == 401


def test_login_sets_a_strict_httponly_cookie_and_is_audited(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    login(client, "anna")
    page = client.get("/operator")
    assert page.status_code == 200 and "Anna Rossi" in page.text
    cookie = next(c for c in client.cookies.jar if c.name == "fd_console")
    assert cookie.path == "/operator" and not cookie.secure
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert ("login", operators["anna"]) in audit_actions(sessions)
    with sessions() as s:  # only the hash of the cookie is stored
        assert s.scalars(select(ConsoleSession.token_hash)).one() != cookie.value


def test_set_cookie_flags(client: TestClient, operators: dict[str, int]) -> None:
    form = client.get("/operator/login")
    token = client.cookies.get("fd_login_csrf")
    resp = client.post(
        "/operator/login",
        data={"email": "anna@example.org", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    header = resp.headers["set-cookie"].lower()
    assert form.status_code == 200
    assert "fd_console=" in header and "httponly" in header and "samesite=strict" in header


def test_cookie_is_secure_behind_https(settings: Settings, sessions, fake_rasa) -> None:  # type: ignore[no-untyped-def]
    from bot.web.app import create_app

    env = Env(
        DATABASE_URL=settings.env.DATABASE_URL,
        FRONTDESK_CONFIG=settings.env.FRONTDESK_CONFIG,
        PUBLIC_BASE_URL="https://frontdesk.example.org",
    )
    with TestClient(create_app(Settings(env=env, config=settings.config))) as c:
        resp = c.get("/operator/login")
    assert "secure" in resp.headers["set-cookie"].lower()


def test_wrong_password_is_refused_and_audited(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    client.get("/operator/login")
    resp = client.post(
        "/operator/login",
        data={
            "email": "anna@example.org",
            "password": "sbagliata",
            "csrf_token": client.cookies.get("fd_login_csrf"),
        },
    )
    assert resp.status_code == 401 and "non corretti" in resp.text
    assert ("login_failed", operators["anna"]) in audit_actions(sessions)
    assert client.get("/operator", follow_redirects=False).status_code == 303


def test_login_form_needs_its_csrf_token(client: TestClient, operators: dict[str, int]) -> None:
    client.get("/operator/login")
    resp = client.post(
        "/operator/login",
        data={"email": "anna@example.org", "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert resp.status_code == 403


def test_every_post_needs_the_session_csrf_token(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    hid = queue_resident(sessions, address="resident-0002")
    csrf = login(client, "anna")
    assert client.post(f"/operator/handoffs/{hid}/take").status_code == 403
    assert (
        client.post(f"/operator/handoffs/{hid}/take", data={"csrf_token": "x" * 43}).status_code
        == 403
    )
    assert client.post("/operator/logout").status_code == 403
    ok = client.post(
        f"/operator/handoffs/{hid}/take", headers={"X-CSRF-Token": csrf}, follow_redirects=False
    )
    assert ok.status_code == 303


def test_logout_ends_the_session_server_side(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    csrf = login(client, "anna")
    stolen = client.cookies.get("fd_console")
    resp = client.post("/operator/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert resp.status_code == 303
    with sessions() as s:
        assert s.scalars(select(ConsoleSession)).all() == []
    client.cookies.set("fd_console", stolen or "", path="/operator")
    assert client.get("/operator", follow_redirects=False).status_code == 303
    assert ("logout", operators["anna"]) in audit_actions(sessions)


def test_login_rate_limit_per_account(client: TestClient, operators: dict[str, int]) -> None:
    client.get("/operator/login")
    token = client.cookies.get("fd_login_csrf")

    def attempt(email: str, password: str) -> int:
        return client.post(
            "/operator/login",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=False,
        ).status_code

    assert [attempt("anna@example.org", "sbagliata") for _ in range(5)] == [401] * 5
    assert attempt("anna@example.org", PASSWORD) == 429  # even the right password, for a while
    assert attempt("ANNA@example.org ", PASSWORD) == 429  # same account however it is typed
    assert attempt("bruno@example.org", PASSWORD) == 303  # other accounts are not locked out


def test_login_rate_limit_per_address(client: TestClient, operators: dict[str, int]) -> None:
    client.get("/operator/login")
    token = client.cookies.get("fd_login_csrf")
    codes = [
        client.post(
            "/operator/login",
            data={"email": f"nobody{i}@example.org", "password": "x", "csrf_token": token},
        ).status_code
        for i in range(20)
    ]
    assert codes == [401] * 20
    resp = client.post(
        "/operator/login",
        data={"email": "anna@example.org", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert resp.status_code == 429


def test_disabled_operator_is_logged_out(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    admin = TestClient(client.app)
    admin_csrf = login(admin, "carla")
    login(client, "anna")
    resp = admin.post(
        f"/operator/admin/operators/{operators['anna']}/active",
        data={"csrf_token": admin_csrf, "active": "0"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert client.get("/operator", follow_redirects=False).status_code == 303
    client.get("/operator/login")
    again = client.post(
        "/operator/login",
        data={
            "email": "anna@example.org",
            "password": PASSWORD,
            "csrf_token": client.cookies.get("fd_login_csrf"),
        },
    )
    assert again.status_code == 401
    assert csrf_of(admin)
