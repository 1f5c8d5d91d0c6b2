"""What the conversation says back: text plus optional buttons (channel-agnostic)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    """A choice; `payload` comes back as the resident's answer when tapped."""

    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message to the resident."""

    text: str
    buttons: tuple[Button, ...] = ()


def numbered_text(reply: Reply) -> str:
    """Renders buttons as numbered options, for channels without buttons (WhatsApp, terminal)."""
    if not reply.buttons:
        return reply.text
    options = "\n".join(f"{i}. {b.title}" for i, b in enumerate(reply.buttons, start=1))
    return f"{reply.text}\n\n{options}"


def payload_for_number(answer: str, buttons: tuple[Button, ...]) -> str | None:
    """Maps a typed "2" (or " 2. ") back to the payload of the second button."""
    digits = answer.strip().rstrip(".)")
    if digits.isdecimal() and 1 <= int(digits) <= len(buttons):  # not "³": int() refuses it
        return buttons[int(digits) - 1].payload
    return None
