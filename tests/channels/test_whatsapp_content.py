"""Buttons -> Content API definitions within Twilio's limits (no network)."""

from __future__ import annotations

import json

import pytest

from bot.channels.whatsapp_content import (
    LIST_PICKER,
    QUICK_REPLY,
    interactive_for,
    shorten,
    units,
)
from flows.replies import Button


def spec(buttons: tuple[Button, ...]) -> tuple[str, dict[str, object]]:
    content = interactive_for(buttons)
    assert content is not None
    definition = json.loads(content.definition)
    return content.content_type, definition["types"][content.content_type]


@pytest.mark.parametrize(
    ("title", "limit", "short"),
    [
        ("Disabilità", 24, "Disabilità"),
        ("Pre e post scuola, compiti", 24, "Pre e post scuola…"),  # no trailing comma
        ("Sostegno psicologico e genitori", 24, "Sostegno psicologico…"),  # not "... e…"
        ("Tutte le novità della Rete", 20, "Tutte le novità…"),
        ("Supercalifragilistichespiralidoso", 10, "Supercali…"),  # one long word: cut in it
        ("🔔🔔🔔🔔🔔🔔", 10, "🔔🔔🔔🔔…"),  # an emoji takes 2 of WhatsApp's characters
    ],
)
def test_titles_are_shortened_at_a_word(title: str, limit: int, short: str) -> None:
    assert shorten(title, limit) == short
    assert units(shorten(title, limit)) <= limit


def test_up_to_three_short_buttons_are_a_quick_reply() -> None:
    kind, body = spec((Button("Sì", "yes"), Button("No", "no"), Button("Non lo so", "eta:x")))
    assert kind == QUICK_REPLY and body["body"] == "{{1}}"
    assert body["actions"] == [
        {"id": "yes", "title": "Sì"},
        {"id": "no", "title": "No"},
        {"id": "eta:x", "title": "Non lo so"},
    ]


def test_a_title_too_long_for_a_button_makes_a_list_with_the_whole_title() -> None:
    kind, body = spec((Button("Tutte le novità della Rete", "sub:novita"), Button("No", "sub:no")))
    assert kind == LIST_PICKER and body["button"] == "Vedi le opzioni"
    assert body["items"] == [
        {
            "id": "sub:novita",
            "item": "Tutte le novità…",
            "description": "Tutte le novità della Rete",
        },
        {"id": "sub:no", "item": "No"},
    ]


def test_four_to_ten_buttons_are_a_list() -> None:
    buttons = tuple(Button(str(n), f"rating:{n}") for n in range(1, 11))
    kind, body = spec(buttons)
    assert kind == LIST_PICKER and [i["id"] for i in body["items"]] == [b.payload for b in buttons]


@pytest.mark.parametrize(
    "buttons",
    [
        (),
        tuple(Button(str(n), f"n:{n}") for n in range(11)),  # more than 10
        (Button("A", "same"), Button("B", "same")),  # a tap could not tell them apart
        (Button("A", "x" * 201),),  # longer than an id may be
        (Button("A", ""),),
        (Button("  ", "blank"),),
    ],
)
def test_what_cannot_be_interactive_is_none(buttons: tuple[Button, ...]) -> None:
    assert interactive_for(buttons) is None


def test_the_key_is_stable_and_depends_on_the_buttons() -> None:
    yes_no = (Button("Sì", "yes"), Button("No", "no"))
    first, again = interactive_for(yes_no), interactive_for(yes_no)
    other = interactive_for((Button("Sì", "yes"), Button("No", "nope")))
    assert first is not None and again is not None and other is not None
    assert first.key == again.key != other.key and len(first.key) == 64
