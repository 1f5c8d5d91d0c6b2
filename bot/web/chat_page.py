"""What the web chat page shows around the conversation: its copy and whom to call.

The copy comes from flows/messages.it.yml (group `webchat`); the numbers from config.yml's
Social Points. The first Social Point is the one to call until the resident's comune is
known (as in flows.hours.point_for); chat_call.js then switches to the comune's own.
"""

from __future__ import annotations

from typing import Any

from bot.settings import AppConfig
from flows.copy import group


def page_context(config: AppConfig) -> dict[str, Any]:
    """The template's `t` (copy), `points` (each with `tel`) and the JSON for chat.js."""
    territory = config.territory.name
    copy = {key: text.replace("{territory}", territory) for key, text in group("webchat").items()}
    points = [
        {
            "id": p.id,
            "name": p.name,
            "phone": p.phone,
            "tel": p.tel,
            "comuni": list(p.comuni),
            "serves": copy["call_serves"].replace("{comuni}", ", ".join(p.comuni)),
        }
        for p in config.social_points
    ]
    script = {
        "copy": {k: copy[k] for k in ("me_label", "buttons_label", "offline", "unreadable")},
        "points": points,
    }
    return {"territory": territory, "t": copy, "points": points, "script": script}
