"""What a turn records beside its conversation, in the turn's own transaction: the need for
the observatory, the campaign consent, the erasure. The front desk sits below these packages
and only knows the `Records` protocol; bot.services hands it this implementation."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.campaigns.subscriptions import record_chat_event
from bot.db.base import utcnow
from bot.observatory import needs
from bot.privacy.erase import erase_subject
from bot.privacy.registry import Subject
from flows.turn import NeedRecorded, SubscribeRequested, UnsubscribeRequested


class TurnRecords:
    """The `bot.frontdesk.Records` of the app.

    Args:
        consent_wording: version of the campaign opt-in sentence, for the consent ledger.
    """

    def __init__(self, *, consent_wording: str = "unversioned") -> None:
        self._consent_wording = consent_wording

    def need(self, session: Session, *, event: NeedRecorded, channel: str) -> int:
        return needs.record_need(session, event=event, channel=channel, now=utcnow())

    def handed_off(self, session: Session, *, need_event_id: int | None) -> None:
        needs.mark_handed_off(session, need_event_id=need_event_id)

    def consent(
        self,
        session: Session,
        *,
        channel: str,
        address: str,
        event: SubscribeRequested | UnsubscribeRequested,
        said: str | None,
    ) -> None:
        record_chat_event(
            session,
            channel=channel,
            address=address,
            event=event,
            said=said,
            wording_version=self._consent_wording,
        )

    def erase(self, session: Session, *, channel: str, address: str) -> None:
        erase_subject(session, Subject(channel, address), via="chat")
