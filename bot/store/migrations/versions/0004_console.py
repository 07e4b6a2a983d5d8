"""The agent console (issue #12): handoff states, console accounts and sessions, the human
phase of transcripts, canned replies. Written by hand to match ``bot.store.models``.

Revision ID: 0004_console
Revises: 0003_trust
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_console"
down_revision = "0003_trust"
branch_labels = None
depends_on = None

CONVERSATION = sa.String(128)


def upgrade() -> None:
    op.create_table(
        "handoff_states",
        sa.Column("conversation_id", CONVERSATION, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("agent", sa.String(40), nullable=True),
        sa.Column("last_agent", sa.String(40), nullable=True),
        sa.Column("queued_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.Column("message_left_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("state IN ('bot', 'queued', 'claimed', 'closed')", name="ck_handoff_states_state"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["after_sales_cases.id"], name="fk_handoff_states_case_id_after_sales_cases",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], name="fk_handoff_states_handoff_id_handoffs", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_handoff_states"),
    )
    op.create_table(
        "console_users",
        sa.Column("username", sa.String(40), nullable=False),
        sa.Column("display_name", sa.String(40), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("role IN ('agent', 'trainer', 'manager')", name="ck_console_users_role"),
        sa.PrimaryKeyConstraint("username", name="pk_console_users"),
    )
    op.create_index("ix_console_users_last_seen_at", "console_users", ["last_seen_at"])
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("username", sa.String(40), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["username"], ["console_users.username"], name="fk_console_sessions_username_console_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_console_sessions"),
    )
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])
    op.create_table(
        "console_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", CONVERSATION, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("author", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('agent', 'note', 'system', 'user')", name="ck_console_messages_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_console_messages"),
    )
    op.create_index("ix_console_messages_conversation_id", "console_messages", ["conversation_id"])
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_canned_replies"),
        sa.UniqueConstraint("code", name="uq_canned_replies_code"),
    )


def downgrade() -> None:
    for table in ("canned_replies", "console_messages", "console_sessions", "console_users", "handoff_states"):
        op.drop_table(table)
