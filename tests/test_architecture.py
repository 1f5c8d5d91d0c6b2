"""Dependency direction of shared/DESIGN.md: bot -> flows -> (nlu, catalog)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "flows": {"telegram", "twilio", "fastapi", "starlette", "bot", "rasa", "sqlalchemy"},
    "nlu": {"telegram", "twilio", "fastapi", "starlette", "bot", "rasa", "flows", "catalog"},
    "catalog": {"telegram", "twilio", "fastapi", "starlette", "bot", "rasa", "flows"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_transports_or_upper_layers(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_app_never_imports_rasa() -> None:
    for path in (ROOT / "bot").rglob("*.py"):
        assert "rasa" not in imported_roots(path), path
