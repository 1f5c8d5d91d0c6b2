"""/privacy names the controller and the retention periods of config.yml."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot.settings import Settings


def test_privacy_page_shows_controller_purposes_retention_and_rights(
    client: TestClient,
    settings: Settings,
) -> None:
    page = client.get("/privacy")
    assert page.status_code == 200
    privacy = settings.config.privacy
    assert privacy.titolare.name.replace("'", "&#39;") in page.text
    assert privacy.titolare.email in page.text
    assert f"{privacy.retention_days.messages} giorni" in page.text
    assert f"{privacy.retention_days.handoffs} giorni" in page.text
    assert "cancella i miei dati" in page.text and "Garante" in page.text
