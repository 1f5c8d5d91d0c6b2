"""case_labels and handoff_labels: labels on console cases

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_labels")),
        sa.UniqueConstraint("name", name=op.f("uq_case_labels_name")),
    )
    op.create_table(
        "handoff_labels",
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["handoff_id"],
            ["handoffs.id"],
            name=op.f("fk_handoff_labels_handoff_id_handoffs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("handoff_id", "label", name=op.f("pk_handoff_labels")),
    )
    op.create_index(op.f("ix_handoff_labels_label"), "handoff_labels", ["label"])


def downgrade() -> None:
    op.drop_index(op.f("ix_handoff_labels_label"), table_name="handoff_labels")
    op.drop_table("handoff_labels")
    op.drop_table("case_labels")
