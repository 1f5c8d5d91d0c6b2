"""The web chat: the browser posts to /api/chat and gets the replies in the response."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from bot.channels.base import ChannelName, InboundMessage, OutboundMessage

SESSION_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


class ChatRequest(BaseModel):
    """`{"session", "text"}` or `{"session", "payload"}` (shared/DESIGN.md)."""

    session: str = Field(pattern=SESSION_PATTERN)
    text: str | None = Field(default=None, max_length=2000)
    payload: str | None = Field(default=None, max_length=128)

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
            channel=self.name, address=req.session, text=req.text, payload=req.payload
        )

    async def send(self, message: OutboundMessage) -> None:
        # Nothing to push: the web chat receives replies in the response to its own request.
        return None

    @staticmethod
    def render(messages: list[OutboundMessage]) -> dict[str, Any]:
        """The JSON body of /api/chat."""
        return {
            "messages": [
                {
                    "text": m.text,
                    "buttons": [{"title": b.title, "payload": b.payload} for b in m.buttons],
                }
                for m in messages
            ]
        }
