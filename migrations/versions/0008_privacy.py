"""observatory rollup (need_counts); privacy needs no schema change (encryption is in place)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Backfill from the events already recorded (same rule as bot.observatory.rollup.rebuild).
BACKFILL = """
INSERT INTO need_counts (month, categoria, comune, age_bracket, channel,
                         requests, unmet, handed_off)
SELECT month, categoria, COALESCE(comune, ''), COALESCE(age_bracket, ''), channel,
       COUNT(*),
       SUM(CASE WHEN matched THEN 0 ELSE 1 END),
       SUM(CASE WHEN handed_off THEN 1 ELSE 0 END)
FROM need_events
GROUP BY month, categoria, COALESCE(comune, ''), COALESCE(age_bracket, ''), channel
"""


def upgrade() -> None:
    op.create_table(
        "need_counts",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("categoria", sa.String(length=32), nullable=False),
        sa.Column("comune", sa.String(length=64), nullable=False),
        sa.Column("age_bracket", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("unmet", sa.Integer(), nullable=False),
        sa.Column("handed_off", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "categoria", "comune", "age_bracket", "channel", name=op.f("pk_need_counts")
        ),
    )
    op.create_index("ix_need_counts_comune_month", "need_counts", ["comune", "month"])
    op.create_index("ix_need_counts_channel_month", "need_counts", ["channel", "month"])
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_index("ix_need_counts_channel_month", table_name="need_counts")
    op.drop_index("ix_need_counts_comune_month", table_name="need_counts")
    op.drop_table("need_counts")
