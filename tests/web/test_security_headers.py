"""Security headers on every kind of response; no public API schema or explorer."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.settings import Settings
from bot.web.app import create_app
from bot.web.security_headers import CSP

PATHS = ["/", "/privacy", "/healthz", "/static/chat.js", "/operator/login", "/nope"]


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    csp = response.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "camera=()" in response.headers["permissions-policy"]
    # Plain http to a site without an https PUBLIC_BASE_URL: no HSTS.
    assert "strict-transport-security" not in response.headers


def test_api_post_and_errors_carry_them(client: TestClient) -> None:
    ok = client.post("/api/chat", json={"session": "headers-session-01", "text": "ciao"})
    bad = client.post("/api/chat", content=b"{", headers={"content-type": "application/json"})
    assert ok.status_code == 200 and bad.status_code >= 400
    for response in (ok, bad):
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"


def test_inline_styles_only_for_the_observatory_charts(client: TestClient) -> None:
    charts = client.get("/operator/admin/observatory", follow_redirects=False).headers[
        "content-security-policy"
    ]
    assert "style-src 'self' 'unsafe-inline'" in charts and "script-src 'self';" in charts
    for path in ("/chat", "/operator/login", "/operator/admin/audit"):
        assert "unsafe-inline" not in client.get(path).headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"])
def test_no_schema_nor_explorer(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_hsts_over_https_requests(client: TestClient) -> None:
    # The scheme uvicorn reports (directly or from a trusted proxy's X-Forwarded-Proto).
    secure = TestClient(client.app, base_url="https://testserver")
    hsts = secure.get("/healthz").headers["strict-transport-security"]
    assert hsts.startswith("max-age=31536000")


def test_hsts_when_the_public_address_is_https(settings: Settings) -> None:
    env = settings.env.model_copy(update={"PUBLIC_BASE_URL": "https://desk.example.it"})
    app = create_app(Settings(env=env, config=settings.config))
    # Lifespan off: the headers do not depend on the resources it opens.
    response = TestClient(app).get("/static/chat.js")
    assert "max-age=31536000" in response.headers["strict-transport-security"]
