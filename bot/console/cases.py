"""Looking cases up: the queue page's search, and a resident's earlier cases.

Least privilege is the one of bot.db.handoff_repo: an operator finds only cases of their
Social Points that are open or that they held; admins find everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot.console.auth import Principal
from bot.console.views import STATUS_LABELS
from bot.db import handoff_repo, label_repo
from bot.db.console_models import HandoffLabel
from bot.db.models import Handoff, Message
from flows.copy import group

CANDIDATES = 200  # cases looked at per search, newest first (the rest: "narrow the dates")
TEXT_DAYS = 92  # the free-text search reads at most this many days of messages...
TEXT_MESSAGES = 5000  # ...and at most this many messages


class BadFilter(ValueError):
    """A filter value that is not acceptable (e.g. a malformed date)."""


@dataclass(frozen=True)
class Filters:
    """What the operator searched for; every field is optional."""

    comune: str = ""
    theme: str = ""
    status: str = ""
    since: date | None = None
    until: date | None = None
    label: str = ""
    text: str = ""

    @property
    def active(self) -> bool:
        return any((self.comune, self.theme, self.status, self.since, self.until, self.label,
                    self.text))  # fmt: skip


@dataclass(frozen=True)
class Found:
    """One case in the results or in a resident's history."""

    id: int
    opened: datetime
    status: str
    status_label: str
    point_name: str
    need: str | None
    comune: str | None
    rating: int | None
    labels: list[str] = field(default_factory=list)
    linked: bool = True  # False: listed (their Social Point had it) but not openable


def _day(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadFilter(value) from exc


def parse(params: Mapping[str, str], *, is_admin: bool) -> Filters:
    """The filters from the query string; free text only for admins.

    Raises:
        BadFilter: a date that is not YYYY-MM-DD.
    """

    def get(key: str, size: int = 64) -> str:
        return (params.get(key) or "").strip()[:size]

    return Filters(
        comune=get("comune"),
        theme=get("tema"),
        status=get("stato") if get("stato") in STATUS_LABELS else "",
        since=_day(get("dal", 10)),
        until=_day(get("al", 10)),
        label=get("etichetta", 32).lower(),
        text=get("testo", 100) if is_admin else "",
    )


def _start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _visible_to(stmt: Select[Any], who: Principal) -> Select[Any]:
    """The same rule as handoff_repo.visible_handoff: their Social Points, open or once theirs."""
    if who.points is None:
        return stmt
    return stmt.where(
        Handoff.social_point.in_(list(who.points)),
        Handoff.status.in_(handoff_repo.VISIBLE) | (Handoff.operator_id == who.operator_id),
    )


def search(
    session: Session,
    *,
    who: Principal,
    filters: Filters,
    point_names: Mapping[str, str],
    zone: ZoneInfo,
) -> tuple[list[Found], bool]:
    """The cases matching the filters, newest first, and whether the list was cut.

    Days start at midnight in `zone`, the territory's time zone.

    Status, dates, label and visibility are filtered in SQL. The summary (comune, need) and
    the messages are encrypted at rest, so comune, theme and free text are matched here in
    Python after decrypting a bounded candidate set: at most CANDIDATES cases, and for the
    free text at most TEXT_MESSAGES messages of at most TEXT_DAYS days.
    """
    stmt = _visible_to(select(Handoff), who)
    if filters.status:
        stmt = stmt.where(Handoff.status == filters.status)
    until = _start(filters.until + timedelta(days=1), zone) if filters.until else None
    since = _start(filters.since, zone) if filters.since else None
    if filters.text and (since is None or (until or _now()) - since > timedelta(days=TEXT_DAYS)):
        since = (until or _now()) - timedelta(days=TEXT_DAYS)
    if since is not None:
        stmt = stmt.where(Handoff.created_at >= since)
    if until is not None:
        stmt = stmt.where(Handoff.created_at < until)
    if filters.label:
        labelled = select(HandoffLabel.handoff_id).where(HandoffLabel.label == filters.label)
        stmt = stmt.where(Handoff.id.in_(labelled))
    rows = list(session.scalars(stmt.order_by(Handoff.created_at.desc(), Handoff.id.desc())
                                .limit(CANDIDATES + 1)))  # fmt: skip
    cut = len(rows) > CANDIDATES
    rows = rows[:CANDIDATES]
    comune = filters.comune.casefold()
    rows = [
        h
        for h in rows
        if (not comune or str((h.summary or {}).get("comune") or "").casefold() == comune)
        and (not filters.theme or (h.summary or {}).get("categoria") == filters.theme)
    ]
    if filters.text:
        rows = _with_text(session, rows, filters.text, since, until)
    return found(session, rows, point_names), cut


def _with_text(
    session: Session,
    rows: list[Handoff],
    text: str,
    since: datetime | None,
    until: datetime | None,
) -> list[Handoff]:
    """The cases in whose part of the conversation a message contains `text` (admins).

    Texts are Fernet tokens at rest: no SQL LIKE can see them. The candidates' messages of
    the date window are read (bounded by TEXT_MESSAGES, newest first), decrypted by the
    column type and matched here, case-insensitively.
    """
    if not rows:
        return []
    conv_ids = {h.conversation_id for h in rows}
    stmt = select(Message.conversation_id, Message.created_at, Message.text).where(
        Message.conversation_id.in_(conv_ids), Message.text.is_not(None)
    )
    if since is not None:
        stmt = stmt.where(Message.created_at >= since)
    if until is not None:
        stmt = stmt.where(Message.created_at < until)
    needle = text.casefold()
    hits: dict[int, list[datetime]] = {}
    for conv_id, at, body in session.execute(stmt.order_by(Message.id.desc()).limit(TEXT_MESSAGES)):
        if body and needle in body.casefold():
            hits.setdefault(conv_id, []).append(_aware(at))
    closed = _closings(session, conv_ids)

    def matches(h: Handoff) -> bool:
        start = max((c for i, c in closed.get(h.conversation_id, []) if i < h.id), default=None)
        end = _aware(h.closed_at) if h.closed_at else None
        return any(
            (start is None or at > start) and (end is None or at <= end)
            for at in hits.get(h.conversation_id, [])
        )

    return [h for h in rows if matches(h)]


def _closings(session: Session, conv_ids: set[int]) -> dict[int, list[tuple[int, datetime]]]:
    """Conversation -> (handoff id, closing time) of its closed cases (case windows)."""
    stmt = select(Handoff.conversation_id, Handoff.id, Handoff.closed_at).where(
        Handoff.conversation_id.in_(conv_ids), Handoff.closed_at.is_not(None)
    )
    out: dict[int, list[tuple[int, datetime]]] = {}
    for conv_id, hid, at in session.execute(stmt):
        out.setdefault(conv_id, []).append((hid, _aware(at)))
    return out


def history(
    session: Session, *, who: Principal, handoff: Handoff, point_names: Mapping[str, str]
) -> list[Found]:
    """The resident's other cases (same conversation), newest first.

    An operator sees only cases their Social Points hold, with a link only to those they
    may open (handoff_repo.visible_handoff); admins see and open all of them.
    """
    stmt = select(Handoff).where(
        Handoff.conversation_id == handoff.conversation_id, Handoff.id != handoff.id
    )
    if who.points is not None:
        stmt = stmt.where(Handoff.social_point.in_(list(who.points)))
    rows = list(session.scalars(stmt.order_by(Handoff.created_at.desc(), Handoff.id.desc())))
    openable = {h.id for h in session.scalars(_visible_to(stmt, who))}
    return found(session, rows, point_names, linked=openable)


def found(
    session: Session,
    rows: Sequence[Handoff],
    point_names: Mapping[str, str],
    *,
    linked: set[int] | None = None,
) -> list[Found]:
    """Result rows, with their labels (one query) and Italian labels for need and status."""
    tags = label_repo.of_handoffs(session, handoff_ids=[h.id for h in rows])
    needs = group("categories")
    return [
        Found(
            id=h.id,
            opened=h.created_at,
            status=h.status,
            status_label=STATUS_LABELS.get(h.status, h.status),
            point_name=point_names.get(h.social_point, h.social_point),
            need=needs.get(str((h.summary or {}).get("categoria") or ""))
            or (h.summary or {}).get("categoria"),
            comune=(h.summary or {}).get("comune"),
            rating=h.rating,
            labels=tags.get(h.id, []),
            linked=linked is None or h.id in linked,
        )
        for h in rows
    ]


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
