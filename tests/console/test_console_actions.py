"""Take, reply, note, transfer, resolve: what the operator does and what the resident gets."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import OutboundMessage
from bot.db import conversation_repo as repo
from bot.db.console_models import AuditEntry
from tests.console.conftest import (
    handoff,
    login,
    queue_resident,
    resident_headers,
    swap_services,
    updates,
)

RESIDENT = "resident-web-0001"


class FakeTelegram:
    """Stands in for the Telegram adapter among the app's channels."""

    name = "telegram"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> None:
        self.sent.append(message)


def take(client: TestClient, hid: int, csrf: str) -> int:
    resp = client.post(
        f"/operator/handoffs/{hid}/take", data={"csrf_token": csrf}, follow_redirects=False
    )
    return resp.status_code


def test_take_tells_the_resident_who_joined_and_only_once(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    hid = queue_resident(sessions, address=RESIDENT)
    csrf = login(client, "anna")
    assert take(client, hid, csrf) == 303
    taken = handoff(sessions, hid)
    assert (taken.status, taken.operator_id) == ("active", operators["anna"])
    [joined] = updates(client, RESIDENT)
    assert joined["text"] == "Ciao, sono Anna del Social Point Tradate: ti leggo io da qui."
    admin = TestClient(client.app)
    assert take(admin, hid, login(admin, "carla")) == 409  # already taken
    assert handoff(sessions, hid).operator_id == operators["anna"]


def test_reply_is_stored_audited_and_delivered(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    hid = queue_resident(sessions, address=RESIDENT)
    csrf = login(client, "anna")
    take(client, hid, csrf)
    resp = client.post(
        f"/operator/handoffs/{hid}/reply",
        data={"csrf_token": csrf, "text": "Buongiorno, come posso aiutarla?"},
        headers={"X-Requested-With": "fetch"},
    )
    assert resp.status_code == 204
    assert updates(client, RESIDENT)[-1]["text"] == "Buongiorno, come posso aiutarla?"
    with sessions() as s:
        last = repo.transcript(s, channel="webchat", address=RESIDENT)[-1]
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "reply")).one()
    assert (last.direction, last.text) == ("out", "Buongiorno, come posso aiutarla?")
    assert (entry.operator_id, entry.message_id) == (operators["anna"], last.id)
    assert "Anna Rossi" in client.get(f"/operator/handoffs/{hid}").text  # the author is shown


def test_only_the_holder_replies(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    hid = queue_resident(sessions, address=RESIDENT)
    csrf = login(client, "anna")
    assert (
        client.post(
            f"/operator/handoffs/{hid}/reply", data={"csrf_token": csrf, "text": "x"}
        ).status_code
        == 409
    )


def test_telegram_residents_get_replies_through_the_channel(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    telegram = FakeTelegram()
    swap_services(client, channels={"telegram": telegram})
    hid = queue_resident(sessions, address="987654321", channel="telegram")
    csrf = login(client, "anna")
    take(client, hid, csrf)
    client.post(f"/operator/handoffs/{hid}/reply", data={"csrf_token": csrf, "text": "Eccomi"})
    assert [(m.address, m.text) for m in telegram.sent][-1] == ("987654321", "Eccomi")
    assert telegram.sent[0].text.startswith("Ciao, sono Anna")


def test_notes_stay_internal(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    hid = queue_resident(sessions, address=RESIDENT)
    csrf = login(client, "anna")
    client.post(
        f"/operator/handoffs/{hid}/note", data={"csrf_token": csrf, "text": "Nota riservata"}
    )
    assert updates(client, RESIDENT) == []
    with sessions() as s:
        texts = [m.text for m in repo.transcript(s, channel="webchat", address=RESIDENT)]
    assert "Nota riservata" not in texts
    assert "Nota riservata" in client.get(f"/operator/handoffs/{hid}").text


def test_resolve_hands_back_to_the_bot_which_asks_a_rating(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    hid = queue_resident(sessions, address=RESIDENT)
    csrf = login(client, "anna")
    take(client, hid, csrf)
    resp = client.post(
        f"/operator/handoffs/{hid}/resolve", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert resp.status_code == 303
    assert handoff(sessions, hid).status == "closed"
    rating = updates(client, RESIDENT)[-1]
    assert "da 1 (poco) a 5 (molto)" in rating["text"]
    assert [b["payload"] for b in rating["buttons"]] == [f"rating:{n}" for n in range(1, 6)]
    client.post(
        "/api/chat",
        json={"session": RESIDENT, "payload": "rating:5"},
        headers=resident_headers(RESIDENT),
    )
    assert handoff(sessions, hid).rating == 5
    again = client.post(f"/operator/handoffs/{hid}/resolve", data={"csrf_token": csrf})
    assert again.status_code == 409


def test_transfer_to_another_social_point_and_to_an_operator(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    hid = queue_resident(sessions, address=RESIDENT)
    csrf = login(client, "anna")
    client.post(
        f"/operator/handoffs/{hid}/transfer",
        data={
            "csrf_token": csrf,
            "social_point": "vedano-olona",
            "operator_id": str(operators["bruno"]),
        },
    )
    moved = handoff(sessions, hid)
    assert (moved.social_point, moved.status, moved.operator_id) == (
        "vedano-olona",
        "active",
        operators["bruno"],
    )
    assert updates(client, RESIDENT)[-1]["text"].startswith(
        "Ciao, sono Bruno del Social Point Vedano"
    )
    assert client.get(f"/operator/handoffs/{hid}").status_code == 404  # no longer Anna's
    wrong = client.post(
        f"/operator/handoffs/{hid}/transfer", data={"csrf_token": csrf, "social_point": "nowhere"}
    )
    assert wrong.status_code in (404, 422)


def test_quick_replies_are_admin_edited_and_offered(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    admin = TestClient(client.app)
    admin_csrf = login(admin, "carla")
    admin.post(
        "/operator/admin/quick-replies",
        data={"csrf_token": admin_csrf, "title": "Saluto", "text": "Buongiorno!"},
    )
    hid = queue_resident(sessions, address=RESIDENT)
    csrf = login(client, "anna")
    take(client, hid, csrf)
    page = client.get(f"/operator/handoffs/{hid}").text
    # Offered by title in the picker; the text is rendered for the case when inserted.
    assert re.search(r'<option value="\d+">Saluto</option>', page)
    assert "Buongiorno!" not in page


def test_admin_adds_an_operator(client: TestClient, operators: dict[str, int]) -> None:
    csrf = login(client, "carla")
    resp = client.post(
        "/operator/admin/operators",
        data={
            "csrf_token": csrf,
            "email": "dario@example.org",
            "name": "Dario Neri",
            "password": "abbastanza-lunga",
            "role": "operator",
            "social_point": ["tradate", "vedano-olona"],
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303
    bad = client.post(
        "/operator/admin/operators",
        data={
            "csrf_token": csrf,
            "email": "dario@example.org",
            "name": "Dario",
            "password": "abbastanza-lunga",
            "social_point": ["tradate"],
        },
    )
    assert bad.status_code == 422 and "esiste già" in bad.text
    dario = TestClient(client.app)
    assert login(dario, "dario", "abbastanza-lunga")


def test_attachments_are_visible(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    hid = queue_resident(sessions, address=RESIDENT)
    with sessions.begin() as s:
        conv = repo.lock_conversation(s, channel="webchat", address=RESIDENT)
        repo.add_message(
            s,
            conversation=conv,
            direction=repo.Direction.INBOUND,
            text=None,
            attachments=[{"kind": "photo", "ref": "AgACAgQAAx0"}],
        )
    login(client, "anna")
    page = client.get(f"/operator/handoffs/{hid}").text
    assert "Foto" in page and "AgACAgQAAx0" in page
