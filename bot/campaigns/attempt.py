"""One campaign message through a channel adapter, and what its failure means.

Outcomes are classified for the outbox: retry (the provider said "not now": 429, 5xx),
final failure (the provider refused), gone (the resident is unreachable: deactivate), or
uncertain (the request may have arrived: never resent, so nobody gets a message twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from requests.exceptions import RequestException
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from twilio.base.exceptions import TwilioRestException

from bot.channels.base import Channel, OutboundMessage
from bot.channels.delivery import RecipientGone
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
    except RetryAfter as exc:
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return Result(None, "telegram_429", retry_after=seconds)
    except BadRequest as exc:
        return Result(RecipientStatus.FAILED, f"telegram_{type(exc).__name__.lower()}")
    except NetworkError:  # timeouts, resets: the message may have been delivered
        return Result(RecipientStatus.UNCERTAIN, "telegram_network")
    except TelegramError as exc:
        return Result(RecipientStatus.FAILED, f"telegram_{type(exc).__name__.lower()}")
    except TwilioRestException as exc:
        if exc.status == 429 or exc.status >= 500:
            return Result(None, f"twilio_{exc.status}", retry_after=backoff)
        return Result(RecipientStatus.FAILED, f"twilio_{exc.code or exc.status}")
    except RequestException:  # the request may have reached Twilio
        return Result(RecipientStatus.UNCERTAIN, "twilio_network")
    return Result(RecipientStatus.SENT, external_id=external_id)
