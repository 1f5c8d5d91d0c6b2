"""The console's own copy (operators' Italian), in messages.it.yml beside this module.

Resident-facing copy stays in flows/messages.it.yml; this file holds what the console shows
operators: labels, hints, validation messages. Templates read it through the `t` global.
"""

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


def text(key: str, /, **params: object) -> str:
    """The sentence at `key` (dotted for nested keys) with its placeholders filled.

    Raises:
        KeyError: when the key is missing (a bug, caught by the tests).
    """
    node: Any = _messages()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(key)
        node = node[part]
    if not isinstance(node, str):
        raise KeyError(key)
    return node.format(**params)


def group(key: str) -> dict[str, str]:
    """A whole mapping of the file (e.g. the channel names)."""
    node: Any = _messages()
    for part in key.split("."):
        node = node[part]
    assert isinstance(node, dict)
    return {str(k): str(v) for k, v in node.items()}


def keys(section: str, /) -> list[str]:
    """The keys of a section (dotted), e.g. every action that has a label."""
    node: Any = _messages()
    for part in section.split("."):
        node = node[part]
    assert isinstance(node, dict)
    return list(node)
