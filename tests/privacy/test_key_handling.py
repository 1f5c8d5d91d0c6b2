"""The embedded key file is private from its first byte; a shared database needs the key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import crypto
from bot.cli.main import app
from bot.web.app import app_from_env

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = "postgresql+psycopg://frontdesk@db.invalid:5432/frontdesk"


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])
def test_key_file_is_0600_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "var" / "data.key"
    old = os.umask(umask)
    try:
        keys = crypto.key_file_keys(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(keys) == 1 and crypto.key_file_keys(path) == keys
    assert [p.name for p in path.parent.iterdir()] == ["data.key"]  # no temporary left


def test_the_key_is_never_in_a_wider_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    modes: list[int] = []
    real_write = os.write

    def spy(fd: int, data: bytes) -> int:
        modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(crypto.os, "write", spy)
    old = os.umask(0)  # the widest umask
    try:
        crypto.key_file_keys(tmp_path / "data.key")
    finally:
        os.umask(old)
    assert modes == [0o600]


def test_a_key_file_created_meanwhile_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "data.key"
    theirs = crypto.Fernet.generate_key().decode()
    path.write_text(theirs + "\n", encoding="utf-8")
    assert crypto.key_file_keys(path) == [theirs]


def test_key_required_only_off_the_embedded_sqlite() -> None:
    crypto.require_key("sqlite:///var/frontdesk.db", None)
    crypto.require_key(POSTGRES, "some-key")
    with pytest.raises(crypto.DataKeyError, match=r"^FRONTDESK_DATA_KEY is required"):
        crypto.require_key("postgresql://frontdesk@db/frontdesk", None)


@pytest.mark.parametrize("command", [["db", "upgrade"], ["run"], ["privacy", "purge"]])
def test_commands_on_postgres_refuse_to_start_without_the_key(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv(crypto.ENV_VAR)
    monkeypatch.setenv("DATABASE_URL", POSTGRES)
    monkeypatch.setenv("FRONTDESK_CONFIG", str(ROOT / "config.yml"))
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "FRONTDESK_DATA_KEY is required" in lines[0]


def test_workers_refuse_to_start_without_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(crypto.ENV_VAR)
    monkeypatch.setenv("DATABASE_URL", POSTGRES)
    monkeypatch.setenv("FRONTDESK_CONFIG", str(ROOT / "config.yml"))
    with pytest.raises(crypto.DataKeyError, match=crypto.ENV_VAR):
        app_from_env()
