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
    # The territory's data is read by every layer, so it imports none of them.
    "territory": {
        "telegram",
        "twilio",
        "fastapi",
        "starlette",
        "bot",
        "rasa",
        "flows",
        "nlu",
        "catalog",
    },
}
# The one module that runs inside Rasa's own process (a pipeline component), not the app's.
RASA_SIDE = ROOT / "nlu" / "rasa_components.py"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def imported_roots(path: Path) -> set[str]:
    return {module.split(".")[0] for module in imported_modules(path)}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_transports_or_upper_layers(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if path != RASA_SIDE
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_app_never_imports_rasa() -> None:
    for package in ("bot", "flows", "nlu", "catalog"):
        for path in (ROOT / package).rglob("*.py"):
            if path != RASA_SIDE:
                assert "rasa" not in imported_roots(path), path
                assert "nlu.rasa_components" not in imported_modules(path), path
