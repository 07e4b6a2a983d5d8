"""Trainer inbox (issue #14): messages agents flag, and inbox items trainers have handled.

``trainer_items`` is keyed by the normalised text of a message, so annotating or discarding one
item hides every duplicate of it at once.

Revision ID: 0005_trainer
Revises: 0004_console
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_trainer"
down_revision = "0004_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Two new tables; nothing existing changes."""
    op.create_table(
        "trainer_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("flagged_by", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trainer_flags"),
    )
    op.create_index("ix_trainer_flags_conversation_id", "trainer_flags", ["conversation_id"])
    op.create_table(
        "trainer_items",
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("commit", sa.String(40), nullable=True),
        sa.Column("handled_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("state IN ('annotated', 'discarded')", name="ck_trainer_items_state_known"),
        sa.PrimaryKeyConstraint("key", name="pk_trainer_items"),
    )


def downgrade() -> None:
    op.drop_table("trainer_items")
    op.drop_index("ix_trainer_flags_conversation_id", "trainer_flags")
    op.drop_table("trainer_flags")
