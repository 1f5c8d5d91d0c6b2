"""View models for the console templates: queue cards, transcript lines, labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console import copy, receipts
from bot.db import label_repo, reply_repo
from bot.db.base import utcnow
from bot.db.catalog_models import CatalogServiceRow
from bot.db.console_models import Operator
from bot.db.models import Conversation, Handoff, Message
from catalog.vocab import MESI
from flows.copy import group

STATUS_LABELS = {
    "waiting": "In attesa",
    "callback": "Da richiamare",
    "active": "In carico",
    "closed": "Chiusa",
    "cancelled": "Annullata",
}
REASON_LABELS = {"emergenza": "Emergenza", "non_capito": "Il bot non ha capito"}
KIND_LABELS = {
    "photo": "Foto",
    "voice": "Messaggio vocale",
    "audio": "Audio",
    "video": "Video",
    "sticker": "Sticker",
    "document": "Documento",
}


SCHEDULE_LABELS = {
    "turni": "lavoro a turni",
    "mattina_presto": "mattina presto",
    "sabato": "anche il sabato",
    "sera": "di sera",
}


@dataclass(frozen=True)
class Card:
    """The summary card of a handoff: what the operator reads first."""

    id: int
    conversation_id: int
    status: str
    status_label: str
    emergency: bool
    reason: str
    point: str
    point_name: str
    waited_minutes: int
    holder_id: int | None
    holder: str | None
    need: str | None
    comune: str | None
    ages: str | None
    who: str | None
    services: list[str] = field(default_factory=list)
    callback_phone: str | None = None
    emergency_text: str | None = None
    first_message: str | None = None
    schedule: str | None = None
    burst: int = 0  # requests of brand-new sessions folded into this card
    burst_ids: list[int] = field(default_factory=list)
    folded_into: int | None = None
    labels: list[str] = field(default_factory=list)
    wait_over: bool = False  # queued longer than the target (FRONTDESK_WAIT_TARGET_MINUTES)
    wait_target: int = 15
    channel: str = ""
    channel_label: str = ""
    reply_failed: bool = False  # a reply of this case (operator or bot) did not get through

    @property
    def queued(self) -> bool:
        return self.status in ("waiting", "callback")


@dataclass(frozen=True)
class Line:
    """One transcript message."""

    id: int
    inbound: bool
    author: str
    text: str | None
    payload: str | None
    attachments: list[dict[str, str]]
    at: datetime
    # Operators' replies: in invio, inviato, consegnato, letto, non consegnato (receipts);
    # the bot's own replies only when they did not get through.
    delivery: receipts.Mark | None = None


def _ages(values: Any) -> str | None:
    if not values:
        return None
    return ", ".join(f"{v:g} anni" if isinstance(v, int | float) else str(v) for v in values)


def _schedule(summary: dict[str, Any]) -> str | None:
    """ "fino alle 18:30; turni; luglio": the times the resident said they need."""
    parts = [f"fino alle {summary['orario']}"] if summary.get("orario") else []
    parts += [SCHEDULE_LABELS.get(v, v) for v in summary.get("vincoli") or []]
    parts += [MESI[m - 1] for m in summary.get("mesi") or [] if 1 <= m <= 12]
    return "; ".join(parts) or None


def _minutes(since: datetime) -> int:
    return max(0, int((utcnow() - _aware(since)).total_seconds() // 60))


def cards(
    session: Session,
    handoffs: list[Handoff],
    point_names: dict[str, str],
    *,
    wait_target: int = 15,
) -> list[Card]:
    """Summary cards, with service and operator names resolved in two queries.

    `wait_target`: minutes a queued request may wait before its card shows a warning.
    """
    service_ids = {s for h in handoffs for s in (h.summary or {}).get("servizi_suggeriti") or []}
    services = dict(
        session.execute(
            select(CatalogServiceRow.id, CatalogServiceRow.nome).where(
                CatalogServiceRow.id.in_(service_ids)
            )
        )
        .tuples()
        .all()
    )
    holder_ids = {h.operator_id for h in handoffs if h.operator_id}
    holders = dict(
        session.execute(select(Operator.id, Operator.name).where(Operator.id.in_(holder_ids)))
        .tuples()
        .all()
    )
    labels = group("categories")
    tags = label_repo.of_handoffs(session, handoff_ids=[h.id for h in handoffs])
    conv_ids = list({h.conversation_id for h in handoffs})
    channels = dict(
        session.execute(
            select(Conversation.id, Conversation.channel).where(Conversation.id.in_(conv_ids))
        )
        .tuples()
        .all()
    )
    failures = reply_repo.failed_lines(
        session, conversation_ids=conv_ids, failed_codes=receipts.FAILED_PROVIDER
    )
    channel_names = copy.group("channels")
    out = []
    for h in handoffs:
        s = h.summary or {}
        waited = _minutes(h.created_at)
        out.append(
            Card(
                id=h.id,
                conversation_id=h.conversation_id,
                status=h.status,
                status_label=STATUS_LABELS.get(h.status, h.status),
                emergency=h.priority >= 1,
                reason=REASON_LABELS.get(h.reason, h.reason.replace("_", " ")),
                point=h.social_point,
                point_name=point_names.get(h.social_point, h.social_point),
                waited_minutes=waited,
                holder_id=h.operator_id,
                holder=holders.get(h.operator_id) if h.operator_id else None,
                need=labels.get(s.get("categoria") or "", s.get("categoria")),
                comune=s.get("comune"),
                ages=_ages(s.get("eta")),
                who=s.get("familiare"),
                services=[services.get(i, i) for i in s.get("servizi_suggeriti") or []],
                callback_phone=h.callback_phone,
                emergency_text=s.get("messaggio_emergenza"),
                first_message=s.get("primo_messaggio"),
                schedule=_schedule(s),
                burst=int(s.get("burst") or 0),
                burst_ids=[int(i) for i in s.get("burst_ids") or []],
                folded_into=s.get("folded_into"),
                labels=tags.get(h.id, []),
                wait_over=h.status in ("waiting", "callback") and waited > wait_target,
                wait_target=wait_target,
                channel=channels.get(h.conversation_id, ""),
                channel_label=channel_names.get(channels.get(h.conversation_id, ""), ""),
                reply_failed=any(
                    c == h.conversation_id and at >= _aware(h.created_at) for c, at in failures
                ),
            )
        )
    return out


def lines(
    messages: list[Message],
    authors: dict[int, str],
    deliveries: dict[int, reply_repo.Delivery] | None = None,
    *,
    channel: str = "",
) -> list[Line]:
    """Transcript lines; outbound ones written by an operator carry the operator's name and
    their delivery state (`deliveries`: message id -> its outbox row and receipts)."""
    deliveries = deliveries or {}
    return [
        Line(
            id=m.id,
            inbound=m.direction == "in",
            author="Residente" if m.direction == "in" else authors.get(m.id, "Bot"),
            text=m.text,
            payload=m.payload,
            attachments=[
                {**a, "label": KIND_LABELS.get(a.get("kind", ""), a.get("kind", ""))}
                for a in m.attachments or []
            ],
            at=m.created_at,
            delivery=line_mark(m.id, authors, deliveries, channel),
        )
        for m in messages
    ]


def line_mark(
    message_id: int,
    authors: dict[int, str],
    deliveries: dict[int, reply_repo.Delivery],
    channel: str,
) -> receipts.Mark | None:
    """The delivery mark of one outbound line (see Line.delivery)."""
    found = deliveries.get(message_id)
    if message_id not in authors:  # the bot's: only when it did not get through
        shown = receipts.mark(found) if found else None
        return (
            shown
            if shown and shown.state in (receipts.State.QUEUED, receipts.State.FAILED)
            else None
        )
    if found is not None:
        return receipts.mark(found)
    # Web chat replies wait in the page's outbox, not in the reply outbox: stored is sent.
    return receipts.SENT if channel == "webchat" else None


def _aware(at: datetime) -> datetime:
    # SQLite returns naive datetimes (stored as UTC).
    return at if at.tzinfo is not None else at.replace(tzinfo=utcnow().tzinfo)
