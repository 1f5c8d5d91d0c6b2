"""The web chat: the browser posts to /api/chat and gets the replies in the response.

Its replies go through the reply outbox like every channel's, but are fetched rather than
sent (bot.db.reply_repo.PULLED): in the response to the resident's own message, or by the
page's polling of /api/chat/updates when the turn took longer or came from an operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from bot.channels.base import ChannelName, InboundMessage, OutboundMessage
from flows.replies import Reply

SESSION_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
# The page's own id for one message (a random UUID): a request retried after a network
# error carries the same one, so the message is handled and answered once.
CLIENT_ID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"


class ChatRequest(BaseModel):
    """`{"session", "text"}` or `{"session", "payload"}` (shared/DESIGN.md)."""

    session: str = Field(pattern=SESSION_PATTERN)
    text: str | None = Field(default=None, max_length=2000)
    payload: str | None = Field(default=None, max_length=128)
    client_id: str | None = Field(default=None, pattern=CLIENT_ID_PATTERN)

    @model_validator(mode="after")
    def _one_of(self) -> ChatRequest:
        if not (self.text and self.text.strip()) and not self.payload:
            raise ValueError("either text or payload is required")
        return self


class WebChat:
    """Adapter for the web chat (replies travel back in the HTTP response)."""

    name: ChannelName = "webchat"

    def parse(self, raw: Any) -> InboundMessage | None:
        try:
            req = ChatRequest.model_validate(raw)
        except ValidationError:
            return None
        return InboundMessage(
            channel=self.name,
            address=req.session,
            text=req.text,
            payload=req.payload,
            external_id=req.client_id,
        )

    async def send(self, message: OutboundMessage) -> None:
        # Never called: the page fetches its replies from the outbox (reply_repo.PULLED).
        return None

    @staticmethod
    def render(replies: Sequence[tuple[int, Reply]]) -> list[dict[str, Any]]:
        """The `messages` of /api/chat and /api/chat/updates; `id` lets the page show each once."""
        return [
            {
                "id": reply_id,
                "text": reply.text,
                "buttons": [{"title": b.title, "payload": b.payload} for b in reply.buttons],
            }
            for reply_id, reply in replies
        ]
