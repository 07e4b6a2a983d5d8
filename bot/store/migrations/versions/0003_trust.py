"""Wrong ownership proofs, counted per order number across conversations (issue #11).

Revision ID: 0003_trust
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_trust"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proof_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_proof_failures"),
    )
    op.create_index("ix_proof_failures_order_id", "proof_failures", ["order_id"])
    op.create_index("ix_proof_failures_at", "proof_failures", ["at"])


def downgrade() -> None:
    op.drop_table("proof_failures")
