import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_config, load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_repository_config_is_valid() -> None:
    cfg = load_config(ROOT / "config.yml")
    assert len(cfg.territory.comuni) == 8
    assert "Venegono Superiore" in cfg.territory.comuni
    assert {p.id for p in cfg.social_points} == {
        "tradate",
        "castiglione-olona",
        "venegono-inferiore",
        "vedano-olona",
    }


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_key_is_named_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as err:
        load_config(_write(tmp_path, "social_points: []\n"))
    message = str(err.value)
    assert "territory" in message and "\n" not in message


TERRITORY = (ROOT / "territory" / "data" / "tradate.yml").read_text(encoding="utf-8")


def _with_points(tmp_path: Path, territory: str) -> Path:
    """config.yml with its own `social_points:` (they replace the territory's)."""
    points = territory[territory.index("social_points:") :]
    return _write(tmp_path, (ROOT / "config.yml").read_text(encoding="utf-8") + "\n" + points)


def test_invalid_hours_are_named(tmp_path: Path) -> None:
    raw = TERRITORY.replace('"09:00-12:30"', '"12:30-09:00"', 1)
    with pytest.raises(SettingsError, match=r"social_points\.0\.hours"):
        load_config(_with_points(tmp_path, raw))


def test_config_social_points_replace_the_territorys(tmp_path: Path) -> None:
    raw = TERRITORY.replace("Social Point Tradate", "Social Point di Tradate")
    assert load_config(_with_points(tmp_path, raw)).social_points[0].name == (
        "Social Point di Tradate"
    )
    raw = TERRITORY.replace("comuni: [Vedano Olona]", "comuni: [Varese]")
    with pytest.raises(SettingsError, match="Social Point vedano-olona serves unknown Varese"):
        load_config(_with_points(tmp_path, raw))


def test_the_territory_is_named_by_file_or_path(tmp_path: Path) -> None:
    base = (ROOT / "config.yml").read_text(encoding="utf-8")
    (tmp_path / "mine.yml").write_text(TERRITORY.replace("Ambito di Tradate", "Mio"), "utf-8")
    path = _write(tmp_path, base.replace("territory: tradate", "territory: mine.yml"))
    assert load_config(path).territory.name == "Mio"  # relative to config.yml's folder
    with pytest.raises(SettingsError, match=r"atlantide\.yml: territory file not found"):
        load_config(_write(tmp_path, base.replace("territory: tradate", "territory: atlantide")))


def test_the_time_zone_is_the_territorys(tmp_path: Path) -> None:
    base = (ROOT / "config.yml").read_text(encoding="utf-8")
    assert load_config(ROOT / "config.yml").campaigns.timezone == "Europe/Rome"
    same = base.replace("campaigns:\n", "campaigns:\n  timezone: Europe/Rome\n")
    assert load_config(_write(tmp_path, same)).campaigns.timezone == "Europe/Rome"
    other = base.replace("campaigns:\n", "campaigns:\n  timezone: Europe/London\n")
    with pytest.raises(SettingsError, match="differs from the territory's Europe/Rome"):
        load_config(_write(tmp_path, other))


def test_social_point_phones_dial_from_any_sim(tmp_path: Path) -> None:
    """tel: links in international form; a phone residents could not dial is rejected."""
    cfg = load_config(ROOT / "config.yml")
    assert [p.tel for p in cfg.social_points][:2] == ["tel:+390331826811", "tel:+390331824801"]
    assert cfg.social_points[0].model_copy(update={"phone": "+41 91 123 45 67"}).tel == (
        "tel:+41911234567"
    )
    raw = TERRITORY.replace('"0331 826 811"', '"chiamare in orario"', 1)
    with pytest.raises(SettingsError, match=r"social_points\.0\.phone"):
        load_config(_with_points(tmp_path, raw))


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    raw = (ROOT / "config.yml").read_text() + "\nunknown_section: 1\n"
    with pytest.raises(SettingsError, match="unknown_section"):
        load_config(_write(tmp_path, raw))


def test_missing_file_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDESK_CONFIG", str(tmp_path / "nope.yml"))
    with pytest.raises(SettingsError, match="FRONTDESK_CONFIG"):
        load_settings()


def test_env_overrides_rasa_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDESK_CONFIG", str(ROOT / "config.yml"))
    monkeypatch.setenv("RASA_URL", "http://rasa.internal:5005")
    monkeypatch.setenv("RASA_TOKEN", "s3cret")
    settings = load_settings()
    assert settings.rasa_url == "http://rasa.internal:5005"
    assert settings.rasa_token == "s3cret"
    assert "s3cret" not in repr(settings)  # secrets never end up in logs or tracebacks


FRONTDESK = str(Path(sys.executable).parent / "frontdesk")


def test_cli_fails_with_one_line_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "config.yml"
    bad.write_text((ROOT / "config.yml").read_text().replace("port: 8000", "port: 99999"))
    env = {**os.environ, "FRONTDESK_CONFIG": str(bad)}
    proc = subprocess.run(
        [FRONTDESK, "run"],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0
    assert "web.port" in proc.stderr
