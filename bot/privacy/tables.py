"""Privacy declarations of the core tables (conversations, console, channels, catalogue).

Retention kinds are the keys of `privacy.retention_days` in config.yml.
"""

from __future__ import annotations

from bot.privacy.registry import (
    Retention,
    by_address,
    by_address_hash,
    by_conversation,
    by_parent,
    not_personal,
    personal,
)

personal(
    "conversations",
    reason="the resident's channel and address",
    match=by_address(),
    retention=Retention("conversation_state", "last_message_at"),
)
personal(
    "conversation_states",
    reason="what the interview learnt: comune, ages, family situation",
    match=by_conversation(),
    retention=Retention("conversation_state", "updated_at"),
    exclude=("conversation_id",),
)
personal(
    "messages",
    reason="the chat transcript (kept only with consent)",
    match=by_conversation(),
    retention=Retention("messages", "created_at"),
    exclude=("conversation_id",),
)
personal(
    "handoffs",
    reason="requests to an operator: summary card, callback phone, rating",
    match=by_conversation(),
    retention=Retention("handoffs", "updated_at"),
    exclude=("conversation_id", "operator_id"),
)
personal(
    "operator_notes",
    reason="operators' internal notes about the resident",
    match=by_conversation(),
    retention=Retention("handoffs", "created_at"),
    exclude=("conversation_id", "operator_id"),
)
personal(
    "handoff_labels",
    reason="labels operators put on the resident's cases (may hint at their situation)",
    match=by_parent("handoff_id", "handoffs", by_conversation()),
    retention=Retention(purged_with="handoffs"),
    exclude=("handoff_id", "operator_id"),
)
personal(
    "inbox_messages",
    reason="messages received and not yet handled (text cleared once handled)",
    match=by_address(),
    retention=Retention("messages", "received_at"),
)
personal(
    "reply_outbox",
    reason="replies to send to the resident and how their delivery went",
    match=by_address(),
    retention=Retention("messages", "created_at"),
    exclude=("message_id", "inbox_id"),
)
personal(
    "channel_contacts",
    reason="when the resident last wrote (pseudonymous: hashed address)",
    match=by_address_hash(),
    retention=Retention("logs", "last_inbound_at"),
    exclude=("address_hash",),
)
personal(
    "outbound_statuses",
    reason="delivery receipts of messages sent to the resident (hashed address)",
    match=by_address_hash(),
    retention=Retention("logs", "updated_at"),
    exclude=("address_hash",),
)

not_personal(
    "need_events",
    reason="anonymous: month, category, comune, age bracket; no link to the person",
)
not_personal("need_counts", reason="anonymous: monthly totals of the need events")
not_personal(
    "inbound_receipts",
    reason="operational: channel message ids for de-duplication, no address",
    retention=Retention("logs", "received_at"),
)
not_personal(
    "whatsapp_contents",
    reason="operational: the bot's own button menus created at Twilio (hash -> ContentSid)",
)
not_personal("catalog_services", reason="operational: the public service catalogue")
not_personal("operators", reason="operational: staff accounts, disabled by admins")
not_personal("operator_social_points", reason="operational: staff membership")
not_personal("console_sessions", reason="operational: staff logins (expire)")
not_personal("case_labels", reason="operational: label names admins define for cases")
not_personal("quick_replies", reason="operational: canned answers written by admins")
not_personal("scheduler_leases", reason="operational: which process runs the scheduler")
not_personal(
    "console_audit",
    reason="accountability: who did what (ids only, no texts); outlives an erasure",
)
