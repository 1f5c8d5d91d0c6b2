"""The delivery state of a reply as the operator reads it: in invio, inviato, consegnato,
letto, non consegnato (with a short reason).

Sources, per channel (docs/console.md):
- the reply outbox row: queued while waiting or retried, sent once the provider accepted it,
  failed/gone with a reason when refused, unreachable or given up;
- WhatsApp: Twilio's status callbacks of the row's MessageSid (bot.db.channel_repo keeps
  only the most advanced one, so a late "delivered" never undoes a "read");
- Telegram: the Bot API has no receipts, so "inviato" is its last state;
- web chat: the operator's words wait in the page's outbox, "inviato" once stored there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.channels.whatsapp import PERMANENT_ERRORS
from bot.console import copy
from bot.db.delivery_models import ReplyStatus
from bot.db.reply_repo import Delivery


class State(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


# Twilio's MessageStatus -> our state (accepted..sent: the provider has it, not the phone).
PROVIDER_STATES: dict[str, State] = {
    "accepted": State.SENT,
    "scheduled": State.SENT,
    "queued": State.SENT,
    "sending": State.SENT,
    "sent": State.SENT,
    "delivered": State.DELIVERED,
    "read": State.READ,
    "failed": State.FAILED,
    "undelivered": State.FAILED,
    "canceled": State.FAILED,
}
FAILED_PROVIDER = tuple(k for k, v in PROVIDER_STATES.items() if v is State.FAILED)


@dataclass(frozen=True)
class Mark:
    """A reply's state and the words shown next to it."""

    state: State
    reason: str | None = None  # a key of delivery.reasons, for failures

    @property
    def failed(self) -> bool:
        return self.state is State.FAILED

    @property
    def label(self) -> str:
        if self.reason is None:
            return copy.text(f"delivery.{self.state.value}")
        return copy.text("delivery.failed_because", reason=reason_text(self.reason))


def reason_text(key: str) -> str:
    reasons = copy.group("delivery.reasons")
    return reasons.get(key, reasons["refused"])


def _reason_key(raw: str | None) -> str:
    """The outbox's machine reason ("blocked", "gave_up:telegram_network", "twilio_21211")
    -> a key of delivery.reasons."""
    why = raw or "refused"
    if why.startswith("gave_up:"):
        return "gave_up"
    code = why.removeprefix("twilio_")
    if code.isdecimal() and int(code) in PERMANENT_ERRORS:
        return PERMANENT_ERRORS[int(code)]
    return why if why in copy.group("delivery.reasons") else "refused"


def mark(delivery: Delivery) -> Mark:
    """The state of one reply from its outbox row and its provider's latest status."""
    if delivery.status == ReplyStatus.QUEUED.value:
        return Mark(State.QUEUED)
    if delivery.status != ReplyStatus.SENT.value:  # failed, gone
        return Mark(State.FAILED, _reason_key(delivery.reason))
    state = PROVIDER_STATES.get(delivery.provider_status or "", State.SENT)
    if state is not State.FAILED:
        return Mark(state)
    code = delivery.error_code
    return Mark(State.FAILED, PERMANENT_ERRORS.get(code, "provider") if code else "provider")


SENT = Mark(State.SENT)
