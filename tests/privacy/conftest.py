"""A fixed data key for the privacy tests, and a resident with data in every personal table."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.db import console_repo, handoff_repo
from bot.db import conversation_repo as repo
from bot.db.campaign_models import (
    Campaign,
    CampaignRecipient,
    ConsentEvent,
    Subscriber,
    Subscription,
)
from bot.db.channel_models import ChannelContact, OutboundStatus
from bot.db.console_models import HandoffLabel, OperatorNote
from bot.db.delivery_models import InboxMessage, ReplyOutbox
from bot.db.models import Direction, NeedEvent
from bot.privacy.registry import Subject

# A constant, not generate_key(): with importlib imports a test module may load its own copy.
KEY = base64.urlsafe_b64encode(b"privacy-tests-key-32-bytes-long!").decode()


@pytest.fixture(autouse=True)
def data_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every privacy test encrypts with its own known key (never var/data.key)."""
    monkeypatch.setenv(crypto.ENV_VAR, KEY)
    crypto.configure(KEY)
    yield KEY
    monkeypatch.delenv(crypto.ENV_VAR, raising=False)
    crypto.configure(KEY)


def fill_resident(
    sessions: sessionmaker[Session],
    subject: Subject,
    *,
    text: str = "mia figlia ha 2 anni",
) -> None:
    """Rows about `subject` in every personal table (and one anonymous need event)."""
    ch, addr = subject.channel, subject.address
    with sessions.begin() as s:
        conv = repo.lock_conversation(s, channel=ch, address=addr)
        repo.save_state(
            s, conversation=conv, name="suggested", data={"need": {"comune": "Tradate"}}
        )
        repo.add_message(s, conversation=conv, direction=Direction.INBOUND, text=text)
        h = handoff_repo.request_handoff(
            s,
            conversation=conv,
            reason="richiesta",
            social_point="tradate",
            priority=False,
            summary={"ultimi_messaggi": [{"testo": text}]},
        )
        h.callback_phone = "3331234567"
        s.flush()
        s.add(HandoffLabel(handoff_id=h.id, label="da richiamare"))
        s.add(OperatorNote(conversation_id=conv.id, text=f"nota: {text}"))
        s.add(ChannelContact(channel=ch, address_hash=crypto.address_index(ch, addr)))
        s.add(InboxMessage(channel=ch, address=addr, external_id=f"SM{addr[-6:]}", text=text))
        s.add(ReplyOutbox(channel=ch, address=addr, text="risposta in coda"))
        s.add(
            OutboundStatus(
                channel=ch,
                external_id=f"SM{addr[-6:]}",
                address_hash=crypto.address_index(ch, addr),
                status="delivered",
                rank=3,
            )
        )
        sub = Subscriber(channel=ch, address=addr, comune="Tradate")
        s.add(sub)
        s.flush()
        s.add(Subscription(subscriber_id=sub.id, topic="prima_infanzia"))
        campaign = Campaign(
            title="Centri estivi", text="Iscrizioni aperte", channel=ch, status="done"
        )
        s.add(campaign)
        s.flush()
        s.add(CampaignRecipient(campaign_id=campaign.id, subscriber_id=sub.id, channel=ch))
        s.add(
            ConsentEvent(
                channel=ch,
                address_hash=crypto.address_index(ch, addr),
                action="opt_in",
                topic="prima_infanzia",
                source="chat",
                wording_version="v1",
                evidence="sì",
            )
        )
        s.add(
            NeedEvent(
                month="2026-11",
                categoria="prima_infanzia",
                comune="Tradate",
                channel=ch,
                matched=True,
            )
        )
        console_repo.audit(s, operator_id=None, action="note", conversation_id=conv.id)
