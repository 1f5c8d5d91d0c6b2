"""Access to the resident-facing copy in messages.it.yml (the one place where copy lives)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

MESSAGES_FILE = Path(__file__).with_name("messages.it.yml")


@cache
def _messages() -> dict[str, Any]:
    data = yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def template(key: str) -> str:
    """The raw sentence at `key` (dotted for nested keys), placeholders unfilled.

    A nested key that is missing falls back to its group's `default` entry, so that a
    new catalogue code never breaks a conversation.

    Raises:
        KeyError: when neither the key nor a default exists (a bug, caught by tests).
    """
    node: Any = _messages()
    parts = key.split(".")
    for i, part in enumerate(parts):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, dict) and i == len(parts) - 1 and "default" in node:
            node = node["default"]
        else:
            raise KeyError(key)
    if not isinstance(node, str):
        raise KeyError(key)
    return node


def say(key: str, /, **params: object) -> str:
    """The sentence at `key` with its placeholders filled (see `template`)."""
    text = template(key)
    return text.format(**params) if params else text


def group(key: str) -> dict[str, str]:
    """A whole mapping of the file, e.g. the category labels."""
    node = _messages()[key]
    assert isinstance(node, dict)
    return {str(k): str(v) for k, v in node.items()}
