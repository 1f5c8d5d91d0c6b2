"""One campaign message through a channel adapter, and what its failure means.

Outcomes are classified for the outbox: retry (the provider said "not now": 429, 5xx),
final failure (the provider refused), gone (the resident is unreachable: deactivate), or
uncertain (the request may have arrived: never resent, so nobody gets a message twice).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.base import (
    Channel,
    OutboundMessage,
    RateLimited,
    RecipientGone,
    Refused,
    Transient,
)
from bot.db.campaign_models import RecipientStatus
from flows.copy import say
from flows.replies import Button, Reply


@dataclass(frozen=True)
class Result:
    """What to record, or how long to wait before trying again (`retry_after`)."""

    status: RecipientStatus | None
    reason: str | None = None
    gone: bool = False
    retry_after: float | None = None
    external_id: str | None = None  # the provider's message id (Twilio's MessageSid)


def campaign_reply(channel: str, text: str) -> Reply:
    """The campaign text with its way out: a button on Telegram, a hint where there is none."""
    if channel == "telegram":
        return Reply(text, (Button(say("campaign_stop_button"), "menu:stop"),))
    return Reply(f"{text}\n\n{say('campaign_stop_hint')}")


async def attempt(channel: Channel, message: OutboundMessage, *, backoff: float) -> Result:
    """Sends once through the adapter and classifies the outcome.

    Args:
        channel: the adapter (its own limiter may already have honoured a Telegram 429).
        message: the campaign message for one resident.
        backoff: seconds to wait before retrying when the provider gives no hint.
    """
    try:
        external_id = await channel.send(message)
    except RecipientGone as exc:
        return Result(RecipientStatus.FAILED, exc.reason, gone=True)
    except RateLimited as exc:
        return Result(None, exc.reason, retry_after=exc.retry_after)
    except Transient as exc:
        if exc.maybe_sent:  # a timeout or a reset: the message may have been delivered
            return Result(RecipientStatus.UNCERTAIN, exc.reason)
        return Result(None, exc.reason, retry_after=backoff)
    except Refused as exc:
        return Result(RecipientStatus.FAILED, exc.reason)
    return Result(RecipientStatus.SENT, external_id=external_id)
