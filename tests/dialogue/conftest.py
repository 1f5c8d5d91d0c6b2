"""One app for the whole session (every channel on), the real Rasa server, the fake providers.

Starting the app, Rasa and the fake servers per test would take most of the suite's time, so
they are session-scoped; each scenario run talks from a fresh resident address instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.channels import replies
from bot.cli.seed import seed_catalog_if_empty
from bot.db.engine import create_db_engine, session_factory
from bot.db.migrate import upgrade
from bot.settings import AbuseConfig, ChannelsConfig, Env, Settings, WhatsAppConfig, load_config
from bot.web.app import create_app
from nlu.client import NluClient
from nlu.comuni import gazetteer
from nlu.rasa_process import RasaServer
from territory.model import shipped_territory
from tests.channels.fakes import ACCOUNT_SID, AUTH_TOKEN, TOKEN, FakeTelegram, FakeTwilio
from tests.channels.payloads import OUR_NUMBER
from tests.conftest import PUBLIC_BASE_URL, TEMPLATE_SID, WEBHOOK_SECRET
from tests.dialogue import report
from tests.dialogue.drivers import App
from tests.dialogue.run import RunResult

TRADATE = gazetteer(shipped_territory("tradate"))  # how its residents name places

ROOT = Path(__file__).resolve().parents[2]
RASA_RUNS = pytest.StashKey[list[RunResult]]()
FLOW_RUNS = pytest.StashKey[list[RunResult]]()


def _settings(db_url: str, telegram_url: str, twilio_url: str) -> Settings:
    """config.yml with every channel on, secrets and API bases pointing at the fakes."""
    env = Env(
        DATABASE_URL=db_url,
        FRONTDESK_CONFIG=ROOT / "config.yml",
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        TELEGRAM_API_BASE_URL=f"{telegram_url}/bot",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_WHATSAPP_FROM=OUR_NUMBER,
        TWILIO_API_BASE_URL=twilio_url,
    )
    config = load_config(ROOT / "config.yml").model_copy(
        update={
            "channels": ChannelsConfig(enabled=("webchat", "telegram", "whatsapp")),
            "whatsapp": WhatsAppConfig(template_content_sid=TEMPLATE_SID),
            # Every resident of the suite writes from the test client's one address: the
            # abuse limits (tested in tests/web) would stop the suite, not an attacker.
            "abuse": AbuseConfig(
                chat_per_address="100000 per minute",
                new_sessions_per_address="100000 per minute",
                messages_per_resident="1000 per minute",
                chat_per_session="1000 per minute",
            ),
        }
    )
    return Settings(env=env, config=config)


@pytest.fixture(scope="session")
def dialogue_app(
    tmp_path_factory: pytest.TempPathFactory,
    rasa_server: RasaServer,
    fake_telegram_server: tuple[FakeTelegram, str],
    fake_twilio_server: tuple[FakeTwilio, str],
) -> Iterator[App]:
    """The real app on a migrated SQLite file, with the seed catalogue and the real Rasa."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('dialogue') / 'dialogue.db'}"
    upgrade(db_url)
    engine = create_db_engine(db_url)
    seed_catalog_if_empty(session_factory(engine), ROOT / "catalog" / "data")
    engine.dispose()
    settings = _settings(db_url, fake_telegram_server[1], fake_twilio_server[1])
    nlu = NluClient(rasa_server.url, places=TRADATE, token=rasa_server.token)
    # Telegram's per-chat pacing (tested in tests/channels) would make every turn with
    # service cards wait seconds at the fake Bot API: the suite tests what is said.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replies, "PACE_BURST", {})
        with TestClient(create_app(settings, nlu=nlu)) as client:
            yield App(client, fake_telegram_server[0], fake_twilio_server[0])


@pytest.fixture(scope="session")
def rasa_runs(request: pytest.FixtureRequest) -> list[RunResult]:
    return request.config.stash.setdefault(RASA_RUNS, [])


@pytest.fixture(scope="session")
def flow_runs(request: pytest.FixtureRequest) -> list[RunResult]:
    return request.config.stash.setdefault(FLOW_RUNS, [])


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    for key, kind, path in (
        (RASA_RUNS, "dialogue (real Rasa, every channel)", report.REPORT_FILE),
        (FLOW_RUNS, "dialogue (pure flow, hand-written parses)", report.FLOW_REPORT_FILE),
    ):
        results = config.stash.get(key, [])
        if not results:
            continue
        data = report.write(results, path)
        terminalreporter.section(kind)
        for line in report.lines(data, kind):
            terminalreporter.write_line(line)
        terminalreporter.write_line(f"  report: {path.relative_to(ROOT)}")
