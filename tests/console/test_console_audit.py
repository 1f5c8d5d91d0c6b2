"""Every admin action lands in the audit log (ids and action names only), and the admins'
"Registro attività" page reads it: newest first, filtered, by pages; operators get 403."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.console import audit_log, copy
from bot.db import console_repo
from bot.db.campaign_models import Campaign
from bot.db.console_models import AuditEntry, CaseLabel, QuickReply
from tests.console.conftest import login, queue_resident

ADDRESS = "resident-web-audit1"


def post(web: TestClient, path: str, csrf: str, **form: object) -> int:
    return web.post(path, data={"csrf_token": csrf, **form}, follow_redirects=False).status_code


def entries(sessions: sessionmaker[Session]) -> list[AuditEntry]:
    with sessions() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_admin_actions_are_audited_with_ids_only(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    hid = queue_resident(sessions, address=ADDRESS)
    csrf = login(client, "carla")
    start = len(entries(sessions))

    assert client.get(f"/operator/handoffs/{hid}").status_code == 200
    assert post(client, "/operator/admin/quick-replies", csrf, title="Saluto", text="Ciao!") == 303
    with sessions() as s:
        reply = s.scalars(select(QuickReply.id)).one()
    form = {"title": "Saluto caldo", "text": "Ciao, ci sono io", "reply_id": str(reply)}
    assert post(client, "/operator/admin/quick-replies", csrf, **form) == 303
    assert post(client, f"/operator/admin/quick-replies/{reply}/delete", csrf) == 303
    assert post(client, "/operator/admin/labels", csrf, name="riservata") == 303
    with sessions() as s:
        label = s.scalars(select(CaseLabel.id)).one()
    assert post(client, f"/operator/admin/labels/{label}/delete", csrf) == 303
    campaign_form = {"title": "Sollievo", "text": "Nuovo gruppo", "channel": "telegram"}
    assert post(client, "/operator/admin/campaigns", csrf, **campaign_form) == 303
    with sessions() as s:
        campaign = s.scalars(select(Campaign.id)).one()
    assert client.get(f"/operator/admin/campaigns/{campaign}/report.csv").status_code == 200
    assert post(client, f"/operator/admin/campaigns/{campaign}/cancel", csrf) == 303
    assert client.get("/operator/admin/observatory.csv").status_code == 200
    privacy = {"channel": "webchat", "address": ADDRESS}
    assert post(client, "/operator/admin/privacy/export", csrf, **privacy) == 200
    assert post(client, "/operator/admin/privacy/erase", csrf, **privacy, confirm="CANCELLA") == 200

    done = entries(sessions)[start:]
    assert [e.action for e in done] == [
        "view",
        "quick_reply_add",
        "quick_reply_edit",
        "quick_reply_delete",
        "label_define",
        "label_undefine",
        "campaign_create",
        "export_campaign",
        "campaign_cancel",
        "export_observatory",
        "privacy_export",
        "privacy_erase",
    ]
    assert {e.operator_id for e in done} == {operators["carla"]}
    assert done[0].handoff_id == hid
    assert done[1].detail == done[3].detail == {"quick_reply_id": reply}
    assert done[4].detail == {"label_id": label}
    assert done[6].detail == done[8].detail == {"campaign_id": campaign}
    # Ids and counts only: no title, text, label name or address anywhere in the trail.
    trail = json.dumps([e.detail for e in done], ensure_ascii=False)
    for secret in ("Saluto", "Ciao", "riservata", "Sollievo", "gruppo", ADDRESS):
        assert secret not in trail


def test_the_audit_page_is_for_admins_only(client: TestClient, operators: dict[str, int]) -> None:
    login(client, "anna")
    assert client.get("/operator/admin/audit").status_code == 403
    assert "/operator/admin/audit" not in client.get("/operator").text
    login(client, "carla")
    page = client.get("/operator")
    assert f'<a href="/operator/admin/audit">{copy.text("audit.nav")}</a>' in page.text


def add_entries(sessions: sessionmaker[Session], operators: dict[str, int]) -> None:
    """120 views by anna on consecutive days, ending today, then one logout by bruno."""
    now = datetime.now(UTC)
    with sessions.begin() as s:
        for n in range(120):
            s.add(
                AuditEntry(
                    at=now - timedelta(days=119 - n, minutes=1),
                    operator_id=operators["anna"],
                    action="view",
                    handoff_id=n + 1,
                )
            )
        console_repo.audit(s, operator_id=operators["bruno"], action="logout")


def rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", r)).strip() for r in body.split("<tr>")[1:]]


def test_newest_first_by_pages_with_filters(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    add_entries(sessions, operators)
    login(client, "carla")  # the login itself is the newest entry
    first = client.get("/operator/admin/audit")
    assert first.status_code == 200
    lines = rows(first.text)
    assert len(lines) == audit_log.PAGE_SIZE
    assert lines[0].startswith(tuple("0123456789")) and "Carla Verdi Accesso" in lines[0]
    assert "Bruno Bianchi Uscita" in lines[1]
    assert "Anna Rossi Apertura di un caso richiesta 120" in lines[2]
    assert "Pagina 1 di 3" in first.text and 'rel="prev"' not in first.text

    views = {"operator": str(operators["anna"]), "action": "view"}
    last = client.get("/operator/admin/audit", params={**views, "pagina": 3})
    assert "Pagina 3 di 3" in last.text and "120 attività" in last.text
    assert rows(last.text)[-1].endswith("richiesta 1") and 'rel="next"' not in last.text
    # The pager keeps the filters.
    assert f"operator={operators['anna']}&amp;action=view" in last.text

    today = datetime.now(UTC).date()
    recent = client.get(
        "/operator/admin/audit",
        params={**views, "dal": (today - timedelta(days=2)).isoformat(), "al": today.isoformat()},
    )
    assert [r.rsplit(" ", 1)[-1] for r in rows(recent.text)] == ["120", "119", "118"]
    assert client.get("/operator/admin/audit", params={"dal": "31/12"}).status_code == 422
    none = client.get("/operator/admin/audit", params={"action": "privacy_purge"})
    assert copy.text("audit.none") in none.text
    # Reading the log is not an action on personal data: it adds nothing to it.
    with sessions() as s:
        assert s.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc())).first() == (
            "login"
        )


def test_every_audited_action_has_an_italian_label() -> None:
    import pathlib

    names: set[str] = set()
    for path in pathlib.Path("bot").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        names |= set(re.findall(r'action="([a-z_]+)"', source))
        names |= set(re.findall(r'audit_(?:action|command)\([^)]*?"([a-z_]+)"', source, re.S))
    names |= {"operator_enable", "operator_disable", "label_remove", "quick_reply_edit"}
    assert names <= set(copy.keys("audit.actions")), names - set(copy.keys("audit.actions"))
    assert all(len(n) <= 24 for n in names)  # console_audit.action is varchar(24)
