"""Delivery states of operators' replies, the resident's channel, and "typing…".

The real app with Telegram and WhatsApp on, talking to the fake Bot API and Twilio servers
on loopback (tests/channels/fakes.py); status callbacks are signed as Twilio signs them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.cli.seed import seed_catalog_if_empty
from bot.console import receipts, typing_indicator
from bot.console.accounts import create_operator
from bot.console.receipts import State
from bot.db import channel_repo
from bot.db.delivery_models import ReplyOutbox
from bot.db.reply_repo import Delivery
from bot.settings import Settings
from bot.web.app import create_app
from tests.channels.conftest import post_twilio
from tests.channels.fakes import FakeTelegram, FakeTwilio, blocked_by_user
from tests.channels.payloads import SENDER, wa_status
from tests.conftest import PASSWORD, ROOT, FakeRasa, nlu_client
from tests.console.conftest import login, queue_resident

STATUS = "/webhooks/whatsapp/status"
CHAT = "555123456"


@pytest.fixture
def app_client(
    channel_settings: Settings,
    sessions: sessionmaker[Session],
    fake_rasa: FakeRasa,
) -> Iterator[TestClient]:
    """Over https: PUBLIC_BASE_URL is https, so the console's cookies are Secure."""
    seed_catalog_if_empty(sessions, ROOT / "catalog" / "data")
    app = create_app(channel_settings, nlu=nlu_client(fake_rasa))
    with TestClient(app, base_url="https://testserver") as c:
        yield c


@pytest.fixture(autouse=True)
def fresh_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Handoff ids repeat across tests' databases: each test starts with no typing history."""
    monkeypatch.setattr(typing_indicator, "_throttle", typing_indicator.Throttle())


class Desk:
    """Anna (Tradate) at the console of the app under test, with the cases she holds."""

    def __init__(self, web: TestClient, sessions: sessionmaker[Session]) -> None:
        self.web = web
        self.sessions = sessions
        self.csrf = login(web, "anna")

    def hold(self, address: str, channel: str) -> int:
        """Queues a resident on `channel` and takes the case."""
        hid = queue_resident(self.sessions, address=address, channel=channel)
        taken = self.web.post(f"/operator/handoffs/{hid}/take", data={"csrf_token": self.csrf})
        assert taken.status_code == 200, taken.text
        return hid

    def reply(self, hid: int, text: str) -> int:
        resp = self.web.post(
            f"/operator/handoffs/{hid}/reply",
            data={"csrf_token": self.csrf, "text": text},
            headers={"X-Requested-With": "fetch"},
        )
        return resp.status_code

    def typing(self, hid: int) -> int:
        resp = self.web.post(
            f"/operator/handoffs/{hid}/typing", headers={"X-CSRF-Token": self.csrf}
        )
        return resp.status_code

    def states(self, hid: int) -> list[tuple[str, str]]:
        """The delivery marks of the case page's lines, in order: (state, words)."""
        page = self.web.get(f"/operator/handoffs/{hid}")
        assert page.status_code == 200
        return re.findall(
            r'data-state="([a-z]+)"><span class="sr-only">[^<]*</span>([^<]*)<', page.text
        )


@pytest.fixture
def desk(
    app_client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> Desk:
    return Desk(app_client, sessions)


def _provider_id(sessions: sessionmaker[Session], text_line: int = -1) -> str:
    with sessions() as s:
        rows = list(
            s.scalars(
                select(ReplyOutbox)
                .where(ReplyOutbox.message_id.is_not(None))
                .order_by(ReplyOutbox.id)
            )
        )
    assert rows and rows[text_line].provider_id
    return str(rows[text_line].provider_id)


# --- the mapping ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delivery", "state", "reason"),
    [
        (Delivery("queued", None), State.QUEUED, None),
        (Delivery("sent", None, "42"), State.SENT, None),  # Telegram: no receipts
        (Delivery("sent", None, "SM1", "queued"), State.SENT, None),
        (Delivery("sent", None, "SM1", "sent"), State.SENT, None),
        (Delivery("sent", None, "SM1", "delivered"), State.DELIVERED, None),
        (Delivery("sent", None, "SM1", "read"), State.READ, None),
        (Delivery("sent", None, "SM1", "undelivered", 63024), State.FAILED, "invalid_recipient"),
        (Delivery("sent", None, "SM1", "failed", 30008), State.FAILED, "provider"),
        (Delivery("gone", "blocked"), State.FAILED, "blocked"),
        (Delivery("gone", "invalid_number"), State.FAILED, "invalid_number"),
        (Delivery("failed", "gave_up:telegram_network"), State.FAILED, "gave_up"),
        (Delivery("failed", "twilio_21211"), State.FAILED, "invalid_number"),
        (Delivery("failed", "telegram_badrequest"), State.FAILED, "refused"),
    ],
)
def test_outbox_rows_and_receipts_map_to_the_states_operators_read(
    delivery: Delivery, state: State, reason: str | None
) -> None:
    found = receipts.mark(delivery)
    assert (found.state, found.reason) == (state, reason)
    assert found.label  # every state and reason has its Italian words


def test_labels_are_short_italian() -> None:
    assert receipts.Mark(State.SENT).label == "inviato"
    assert receipts.Mark(State.DELIVERED).label == "consegnato"
    assert receipts.Mark(State.READ).label == "letto"
    assert receipts.Mark(State.FAILED, "blocked").label == (
        "non consegnato: il residente ha bloccato il bot"
    )
    assert receipts.Mark(State.FAILED, "gave_up").label.startswith("non consegnato: ritentato")


def test_a_late_callback_never_takes_a_reply_back(sessions: sessionmaker[Session]) -> None:
    """read, then a late delivered and sent: the console still says letto."""
    with sessions.begin() as s:
        for status in ("sent", "read", "delivered", "sent"):
            channel_repo.record_status(s, channel="whatsapp", external_id="SM9", status=status)
        row = channel_repo.outbound_status(s, channel="whatsapp", external_id="SM9")
        assert row is not None
        seen = receipts.mark(Delivery("sent", None, "SM9", row.status))
    assert seen.state is State.READ


# --- through the app ------------------------------------------------------------------


@pytest.mark.usefixtures("fake_twilio")
def test_whatsapp_reply_follows_twilio_callbacks_in_any_order(
    desk: Desk,
) -> None:
    hid = desk.hold(SENDER, "whatsapp")
    assert desk.reply(hid, "Ti richiamo tra poco.") == 204
    assert desk.states(hid) == [("sent", "inviato")]
    sid = _provider_id(desk.sessions)
    for status, state, words in (
        ("delivered", "delivered", "consegnato"),
        ("read", "read", "letto"),
        ("delivered", "read", "letto"),  # out of order: never back
        ("delivered", "read", "letto"),  # a redelivered callback: the same
    ):
        assert post_twilio(desk.web, STATUS, wa_status(sid, status)).status_code == 200
        assert desk.states(hid) == [(state, words)]
    queue = desk.web.get("/operator").text
    assert "WhatsApp" in queue and "Risposta non consegnata" not in queue


@pytest.mark.usefixtures("fake_twilio")
def test_an_undelivered_whatsapp_reply_shows_on_the_line_and_the_card(
    desk: Desk,
) -> None:
    hid = desk.hold(SENDER, "whatsapp")
    desk.reply(hid, "Ci sei?")
    form = wa_status(_provider_id(desk.sessions), "undelivered", error_code="63024")
    assert post_twilio(desk.web, STATUS, form).status_code == 200
    assert desk.states(hid) == [("failed", "non consegnato: numero non raggiungibile su WhatsApp")]
    assert "Risposta non consegnata" in desk.web.get("/operator").text


def test_telegram_reply_is_sent_at_most_and_a_block_is_explained(
    desk: Desk,
    fake_telegram: FakeTelegram,
) -> None:
    hid = desk.hold(CHAT, "telegram")
    assert desk.reply(hid, "Eccomi.") == 204
    assert desk.states(hid) == [("sent", "inviato")]  # the Bot API has no receipts
    fake_telegram.fail_next["sendMessage"] = [blocked_by_user()]
    assert desk.reply(hid, "Ci sei ancora?") == 502
    assert desk.states(hid) == [
        ("sent", "inviato"),
        ("failed", "non consegnato: il residente ha bloccato il bot"),
    ]
    page = desk.web.get(f"/operator/handoffs/{hid}").text
    assert "Conversazione (Telegram)" in page and "Risposta non consegnata" in page


def test_typing_reaches_telegram_for_the_holder_only_and_throttled(
    app_client: TestClient,
    operators: dict[str, int],
    sessions: sessionmaker[Session],
    settings: Settings,
    fake_telegram: FakeTelegram,
) -> None:
    create_operator(
        sessions, settings, email="dora@example.org", name="Dora Neri", password=PASSWORD,
        role="operator", social_points=["tradate"],
    )  # fmt: skip
    hid = queue_resident(sessions, address=CHAT, channel="telegram")
    # Anna on the app's own client (its event loop runs the Telegram adapter); the others
    # only ever get refused.
    anna = Desk(app_client, sessions)
    dora, bruno = (Desk(TestClient(app_client.app, base_url="https://testserver"), sessions)
                   for _ in range(2))  # fmt: skip
    dora.csrf, bruno.csrf = login(dora.web, "dora"), login(bruno.web, "bruno")

    # Before anyone holds it, a colleague of the Social Point may not: 403.
    assert dora.typing(hid) == 403
    # Another Social Point's operator does not see the case at all: 404.
    assert bruno.typing(hid) == 404
    # Without the CSRF token: refused.
    assert anna.web.post(f"/operator/handoffs/{hid}/typing").status_code == 403
    assert not fake_telegram.named("sendChatAction")

    anna.web.post(f"/operator/handoffs/{hid}/take", data={"csrf_token": anna.csrf})
    assert dora.typing(hid) == 403
    assert (anna.typing(hid), anna.typing(hid)) == (204, 204)  # the second within 4 s
    [call] = fake_telegram.named("sendChatAction")  # throttled: one call
    assert (str(call.params["chat_id"]), call.params["action"]) == (CHAT, "typing")


def test_typing_failure_is_never_the_operators_problem(
    desk: Desk,
    fake_telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hid = desk.hold(CHAT, "telegram")
    fake_telegram.fail_next["sendChatAction"] = [blocked_by_user()]
    with caplog.at_level("DEBUG", logger="bot.channels.telegram"):
        assert desk.typing(hid) == 204
    [logged] = [r for r in caplog.records if "typing not shown" in r.getMessage()]
    assert logged.levelname == "DEBUG"


def test_whatsapp_and_web_chat_have_no_typing_indicator(
    desk: Desk, fake_twilio: FakeTwilio
) -> None:
    cases = [desk.hold(SENDER, "whatsapp"), desk.hold("resident-web-0002", "webchat")]
    calls = len(fake_twilio.calls)
    assert [desk.typing(hid) for hid in cases] == [204, 204]
    assert len(fake_twilio.calls) == calls  # nothing sent to Twilio
