"""All resident-facing copy lives in flows/messages.it.yml, and every key used exists."""

from __future__ import annotations

import re
from pathlib import Path
from string import Formatter

import pytest

from catalog.codes import CheckCode, ReasonCode
from flows.copy import group, say, template

ROOT = Path(__file__).resolve().parents[2]
KEY_USE = re.compile(r"""say\(\s*["']([a-z_.]+)["']""")


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in [*(ROOT / "flows").rglob("*.py"), *(ROOT / "bot").rglob("*.py")]:
        keys |= set(KEY_USE.findall(path.read_text(encoding="utf-8")))
    return keys


def fields(key: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template(key)) if name}


@pytest.mark.parametrize("key", sorted(used_keys()))
def test_every_key_used_in_code_exists(key: str) -> None:
    assert say(key, **dict.fromkeys(fields(key), "x"))


@pytest.mark.parametrize("code", [*ReasonCode, *CheckCode])
def test_every_catalogue_code_has_its_own_sentence(code: ReasonCode | CheckCode) -> None:
    kind = "reasons" if isinstance(code, ReasonCode) else "checks"
    assert code.value in group(kind), f"{kind}.{code.value} missing in messages.it.yml"


def test_categories_cover_the_taxonomy() -> None:
    import yaml

    taxonomy = yaml.safe_load((ROOT / "nlu" / "taxonomy.yml").read_text())
    assert set(group("categories")) == set(taxonomy["need_categories"])


def test_missing_nested_code_falls_back_to_default() -> None:
    assert say("reasons.some_new_code") == say("reasons.default")
    with pytest.raises(KeyError):
        say("no_such_key")


def test_lexicon_entries_are_all_patterns() -> None:
    """A regex with ': ' in it turns into a YAML mapping unless quoted: catch it here."""
    from flows.lexicon import lexicon, pattern

    def walk(node: object, key: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{key}.{k}" if key else str(k))
        else:
            items = node if isinstance(node, list) else [node]
            assert all(isinstance(i, str) for i in items), key
            pattern(key)

    walk(lexicon(), "")
