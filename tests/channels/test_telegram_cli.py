"""`frontdesk telegram set-webhook` against the fake Bot API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from tests.channels.fakes import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, fake_telegram_server: tuple[FakeTelegram, str]) -> None:
    monkeypatch.setenv("FRONTDESK_CONFIG", str(ROOT / "config.yml"))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "cli-secret_1")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"{fake_telegram_server[1]}/bot")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://frontdesk.example.org/")


def test_set_webhook_registers_url_secret_and_commands(
    env: None, fake_telegram: FakeTelegram
) -> None:
    result = CliRunner().invoke(app, ["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["webhook"] == "https://frontdesk.example.org/webhooks/telegram"
    [hook] = fake_telegram.named("setWebhook")
    assert hook.params["url"] == out["webhook"] and hook.params["secret_token"] == "cli-secret_1"
    assert hook.params["allowed_updates"] == ["message", "callback_query"]
    [commands] = fake_telegram.named("setMyCommands")
    names = [c["command"] for c in commands.params["commands"]]
    assert names == ["start", "operatore", "stop", "cancella", "aiuto"]
    assert all(c["description"] for c in commands.params["commands"])


def test_refused_token_fails_with_one_line(
    env: None, monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "999:wrong")
    result = CliRunner().invoke(app, ["telegram", "set-webhook"])
    assert result.exit_code != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: Telegram refused") and "999:wrong" not in line


@pytest.mark.parametrize(
    ("name", "value"),
    [("PUBLIC_BASE_URL", "http://insecure.example.org"), ("TELEGRAM_WEBHOOK_SECRET", "spazi no")],
)
def test_bad_settings_fail_before_calling_telegram(
    env: None, monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["telegram", "set-webhook"])
    assert result.exit_code == 2 and name in result.stderr
    assert fake_telegram.calls == []
