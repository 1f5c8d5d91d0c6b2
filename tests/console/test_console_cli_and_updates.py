"""`frontdesk operator add` and GET /api/chat/updates."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bot.cli.main import app
from bot.console.auth import verify_password
from bot.db import console_repo
from bot.db.engine import create_db_engine, session_factory
from bot.settings import Settings
from tests.console.conftest import resident_headers

runner = CliRunner()


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", settings.env.DATABASE_URL)
    monkeypatch.setenv("FRONTDESK_CONFIG", str(settings.env.FRONTDESK_CONFIG))
    return settings.env.DATABASE_URL


def add(*args: str, password: str = "password-di-prova\n") -> tuple[int, str, str]:
    result = runner.invoke(app, ["operator", "add", *args, "--password-stdin"], input=password)
    return result.exit_code, result.stdout, result.stderr


def test_operator_add_prints_json_and_hashes_the_password(env: str) -> None:
    code, out, _ = add(
        "--email",
        "Eva@Example.org",
        "--name",
        "Eva Galli",
        "--role",
        "operator",
        "--social-point",
        "tradate",
        "--social-point",
        "vedano-olona",
    )
    assert code == 0, out
    printed = json.loads(out.strip().splitlines()[-1])
    assert printed | {"id": 0} == {
        "id": 0,
        "email": "eva@example.org",
        "role": "operator",
        "social_points": ["tradate", "vedano-olona"],
    }
    with session_factory(create_db_engine(env))() as s:
        eva = console_repo.find_operator(s, email="eva@example.org")
        assert eva is not None and eva.password_hash.startswith("$argon2id$")
        assert verify_password(eva.password_hash, "password-di-prova")
        assert eva.social_points == ["tradate", "vedano-olona"]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--social-point", "atlantide"], "Social Point sconosciuto: atlantide"),
        (["--role", "capo", "--social-point", "tradate"], "ruolo sconosciuto"),
        ([], "almeno un Social Point"),
    ],
)
def test_operator_add_fails_with_one_line(env: str, args: list[str], reason: str) -> None:
    code, _, err = add("--email", "x@example.org", "--name", "X", *args)
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and reason in err


def test_operator_add_refuses_duplicates_and_short_passwords(env: str) -> None:
    base = ["--email", "y@example.org", "--name", "Y", "--social-point", "tradate"]
    assert add(*base, password="corta\n")[0] != 0
    assert add(*base)[0] == 0
    code, _, err = add(*base)
    assert code != 0 and "esiste già" in err


def test_updates_start_from_now_and_validate_the_session(client: TestClient) -> None:
    assert client.get("/api/chat/updates", headers={"X-Chat-Session": "bad"}).status_code == 422
    # The session never travels in the URL: a query string is not read.
    assert client.get("/api/chat/updates", params={"session": "never-seen-0001"}).status_code == 422
    resp = client.get("/api/chat/updates", headers=resident_headers("never-seen-0001"))
    assert resp.json() == {"messages": [], "last": 0}
    assert resp.headers["cache-control"] == "no-store"
