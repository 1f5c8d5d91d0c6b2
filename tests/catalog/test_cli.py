"""`frontdesk catalog ...` through typer's CliRunner, on a temporary SQLite database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli.catalog import catalog_app
from catalog.loader import LoadResult, dump, load_path
from territory.model import shipped_territory

# The comuni a catalogue service may serve: the Ambito di Tradate and its neighbours.
PLACES = tuple(shipped_territory("tradate").places)

SEED = Path(__file__).resolve().parents[2] / "catalog" / "data"
runner = CliRunner()


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh SQLite file; the commands migrate it themselves (bot.cli.common.open_sessions)."""
    url = f"sqlite:///{tmp_path / 'frontdesk.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def invoke(*args: str) -> tuple[int, Any, str]:
    result = runner.invoke(catalog_app, list(args))
    lines = result.stdout.strip().splitlines()
    last = json.loads(lines[-1]) if lines and lines[-1].startswith(("{", "[")) else None
    return result.exit_code, last, result.stderr


def test_validate(tmp_path: Path) -> None:
    code, out, _ = invoke("validate", str(SEED))
    assert code == 0 and out["valid"] is True and out["services"] >= 34
    bad = tmp_path / "bad.yml"
    bad.write_text("servizi:\n  - id: x\n    categoria: nidi\n", encoding="utf-8")
    code, out, err = invoke("validate", str(bad))
    assert code == 1 and out["valid"] is False and out["problems"] > 1
    assert len(err.strip().splitlines()) == 1 and err.startswith("error:")


def test_import_is_idempotent_and_deactivates_dropped_services(
    seed: LoadResult, tmp_path: Path
) -> None:
    code, out, _ = invoke("import", str(SEED))
    total = len(seed.services)
    assert code == 0 and out["created"] == total and out["imported"] == total
    code, out, _ = invoke("import", str(SEED))
    assert out["created"] == 0 and out["updated"] == 0 and out["unchanged"] == total
    subset = tmp_path / "subset.yml"
    subset.write_text(dump(seed.services[:3], fmt="yaml"), encoding="utf-8")
    code, out, _ = invoke("import", str(subset), "--dry-run")
    assert out["deactivated"] == total - 3 and out["dry_run"] is True
    code, out, _ = invoke("import", str(subset), "--partial")
    assert out["unchanged"] == 3 and out["missing"] == total - 3 and out["deactivated"] == 0
    code, out, _ = invoke("import", str(subset))
    assert out["deactivated"] == total - 3 and len(out["deactivated_ids"]) == total - 3


def test_invalid_import_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text((SEED / "caregiver.yml").read_text(encoding="utf-8"))
    (tmp_path / "b.yml").write_text("servizi:\n  - id: x\n", encoding="utf-8")
    code, out, err = invoke("import", str(tmp_path))
    assert code == 1 and out["imported"] == 0 and "nulla importato" in err
    code, out, _ = invoke("import", str(tmp_path / "a.yml"))
    assert out["created"] == 5


@pytest.mark.parametrize(("fmt", "suffix"), [("yaml", "yml"), ("csv", "csv")])
def test_export_round_trips(seed: LoadResult, tmp_path: Path, fmt: str, suffix: str) -> None:
    invoke("import", str(SEED))
    target = tmp_path / f"export.{suffix}"
    code, out, _ = invoke("export", "--format", fmt, "--out", str(target))
    assert code == 0 and out == {"exported": len(seed.services), "format": fmt, "out": str(target)}
    assert load_path(target, places=PLACES).services == seed.services
    result = runner.invoke(catalog_app, ["export", "--format", fmt])
    assert result.stdout == target.read_text(encoding="utf-8")


def test_search() -> None:
    invoke("import", str(SEED))
    code, out, _ = invoke(
        "search", "--categoria", "prima_infanzia", "--comune", "tradate", "--eta", "1.5",
        "--oggi", "2026-11-23", "--json",
    )  # fmt: skip
    assert code == 0 and out["unmet"] is False
    assert out["matches"][0]["id"] == "nido-comunale-tradate"
    assert out["matches"][0]["reasons"][0] == {
        "code": "stesso_comune", "params": {"comune": "Tradate"},
    }  # fmt: skip
    code, out, _ = invoke("search", "--comune", "Vedano Olona", "--eta", "80", "--json")
    assert {m["categoria"] for m in out["matches"]} >= {"domiciliarita", "caregiver"}
    code, out, _ = invoke(
        "search", "--catalogo", str(SEED), "--categoria", "caregiver", "--isee", "90000"
    )
    assert code == 0 and "misura-b2-ambito-tradate" not in {m["id"] for m in out["matches"]}


@pytest.mark.parametrize(
    "args",
    [
        ["--categoria", "nidi"],
        ["--familiare", "cugino"],
        ["--comune", "Atlantide"],
        ["--oggi", "ieri"],
    ],
)
def test_search_rejects_bad_input(args: list[str]) -> None:
    code, _, err = invoke("search", *args)
    assert code == 1 and err.startswith("error:")
