"""The shared taxonomy (nlu/taxonomy.yml, a copy of shared/taxonomy.yml): one source of names."""

from __future__ import annotations

from pathlib import Path

import yaml

_DATA = yaml.safe_load(Path(__file__).with_name("taxonomy.yml").read_text(encoding="utf-8"))

NEED_CATEGORIES: tuple[str, ...] = tuple(_DATA["need_categories"])
NEED_INTENTS: tuple[str, ...] = tuple(f"bisogno_{c}" for c in NEED_CATEGORIES)
INTENTS: tuple[str, ...] = (*_DATA["intents"], *NEED_INTENTS)
# The familiare entity's values are listed in its description, comma separated.
FAMILIARI: tuple[str, ...] = tuple(v.strip() for v in _DATA["entities"]["familiare"].split(","))
