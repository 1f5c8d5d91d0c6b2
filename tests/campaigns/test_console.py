"""Admin pages of campaigns through the real app: composer, audience count, report, cancel."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.campaign_models import Campaign
from bot.settings import Settings
from bot.web.app import create_app
from tests.campaigns.conftest import add_subscribers
from tests.conftest import FakeRasa, nlu_client
from tests.console.conftest import login

pytestmark = pytest.mark.usefixtures("fast_hashing")  # as for every console test


@pytest.fixture
def web(settings: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    """The app over plain HTTP (the channel tests' app has an https PUBLIC_BASE_URL, so the
    console's secure session cookie would not come back)."""
    with TestClient(create_app(settings, nlu=nlu_client(fake_rasa))) as c:
        yield c


def test_admin_composes_schedules_follows_and_cancels(
    web: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    add_subscribers(sessions, [("telegram", "1"), ("telegram", "2")], topics=("caregiver",))
    add_subscribers(sessions, [("whatsapp", "whatsapp:+393331234500")], comune="Vedano Olona")
    csrf = login(web, "carla")
    page = web.get("/operator/admin/campaigns")
    assert page.status_code == 200 and "Nuova campagna" in page.text and "campaigns.js" in page.text
    count = web.get("/operator/admin/campaigns/audience", params={"topic": "caregiver"})
    assert count.json() == {"recipients": 2}
    count = web.get("/operator/admin/campaigns/audience", params={"comune": "Vedano Olona"})
    assert count.json() == {"recipients": 1}

    created = web.post(
        "/operator/admin/campaigns",
        data={
            "csrf_token": csrf,
            "title": "Sollievo",
            "text": "Nuovo gruppo per chi assiste un familiare",
            "channel": "telegram",
            "topic": ["caregiver"],
            "at": "2026-12-01T10:00",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    detail = web.get(created.headers["location"])
    assert "Nuovo gruppo per chi assiste" in detail.text and "Annulla la campagna" in detail.text
    assert re.search(r"<th scope=\"row\">recipients</th><td>2</td>", detail.text)
    with sessions() as s:
        campaign = s.scalars(select(Campaign)).one()
        assert campaign.status == "scheduled" and campaign.scheduled_at is not None
    csv = web.get(f"/operator/admin/campaigns/{campaign.id}/report.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[1:] == ["1,telegram,pending,,", "2,telegram,pending,,"]

    web.post(f"/operator/admin/campaigns/{campaign.id}/cancel", data={"csrf_token": csrf})
    with sessions() as s:
        assert s.scalars(select(Campaign.status)).one() == "cancelled"


def test_operators_cannot_see_campaigns(web: TestClient, operators: dict[str, int]) -> None:
    login(web, "anna")
    assert web.get("/operator/admin/campaigns").status_code == 403
    assert web.get("/operator/admin/campaigns/audience").status_code == 403
