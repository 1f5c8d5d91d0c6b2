"""The repository's copy of the taxonomy is the shared contract, unchanged."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "taxonomy.yml"


def test_copy_matches_shared_contract() -> None:
    if not SHARED.exists():
        pytest.skip("shared/taxonomy.yml is not beside this checkout")
    ours = yaml.safe_load((ROOT / "nlu" / "taxonomy.yml").read_text(encoding="utf-8"))
    assert ours == yaml.safe_load(SHARED.read_text(encoding="utf-8"))
