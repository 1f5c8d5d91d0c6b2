import pytest

from flows.turn import command_payload


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("STOP", "menu:stop"),
        ("Basta!", "menu:stop"),
        ("basta.", "menu:stop"),
        ("/stop", "menu:stop"),
        ("Disiscrivimi", "menu:stop"),
        ("/start", "menu:restart"),
        ("/start@FrontDeskBot", "menu:restart"),
        ("/operatore", "menu:operator"),
        ("/cancella", "menu:erase"),
        ("/aiuto", "menu:help"),
        ("Ricomincia", "menu:restart"),
    ],
)
def test_commands_and_opt_out_words(text: str, payload: str) -> None:
    assert command_payload(text) == payload


@pytest.mark.parametrize("text", ["stop al nido?", "basta con la badante, cerco altro", "", None])
def test_sentences_containing_the_words_are_not_commands(text: str | None) -> None:
    assert command_payload(text) is None


def test_numbered_answers_map_to_buttons_and_odd_digits_do_not_crash() -> None:
    from flows.replies import Button, payload_for_number

    buttons = (Button("Sì", "yes"), Button("No", "no"))
    assert payload_for_number(" 2. ", buttons) == "no"
    assert payload_for_number("1)", buttons) == "yes"
    assert payload_for_number("¹", buttons) is None  # superscript: isdigit() but not int()
    assert payload_for_number("3", buttons) is None
    assert payload_for_number("0", buttons) is None
