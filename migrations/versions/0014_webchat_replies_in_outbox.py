"""web chat replies move to reply_outbox (fetched by the page); webchat_outbox goes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Messages the page has not fetched yet keep waiting, now in the reply outbox (the text
    # is the same Fernet token: both columns are encrypted with the same key).
    op.execute(
        """
        INSERT INTO reply_outbox (channel, address, text, buttons, status, attempts,
                                  next_attempt_at, created_at)
        SELECT 'webchat', c.address, w.text, w.buttons, 'queued', 0, w.created_at, w.created_at
        FROM webchat_outbox w JOIN conversations c ON c.id = w.conversation_id
        ORDER BY w.id
        """
    )
    with op.batch_alter_table("webchat_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webchat_outbox_conversation_id"))
    op.drop_table("webchat_outbox")


def downgrade() -> None:
    op.create_table(
        "webchat_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_webchat_outbox_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webchat_outbox")),
    )
    with op.batch_alter_table("webchat_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webchat_outbox_conversation_id"), ["conversation_id"], unique=False
        )
