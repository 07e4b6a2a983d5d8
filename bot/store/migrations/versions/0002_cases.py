"""Every case and every yuan right (issue #10).

- ``after_sales_cases.item_sku``: a case is about one order, one item and one kind of problem.
- ``refunds.state`` / ``refunds.actor``: every amount granted is a refund row, paid now
  ("approved") or once the return reaches the warehouse ("awaiting_return"), and who granted it.
- ``follow_ups.kind`` / ``follow_ups.key``: what kind of promise (the runner words its message
  from it) and a unique key, so a retried decision records its promise once.
- ``compensation_offers.seq``: the move's place in the negotiation's history, unique per case,
  so a retried bargaining turn stores its offers once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Plain ADD COLUMN and unique indexes: no table rebuild on SQLite, nothing renamed."""
    op.add_column("after_sales_cases", sa.Column("item_sku", sa.String(32), nullable=True))
    op.add_column("refunds", sa.Column("state", sa.String(20), nullable=False, server_default="approved"))
    op.add_column("refunds", sa.Column("actor", sa.String(64), nullable=False, server_default="bot"))
    op.add_column("follow_ups", sa.Column("kind", sa.String(24), nullable=False, server_default="promise"))
    op.add_column("follow_ups", sa.Column("key", sa.String(120), nullable=True))
    op.create_index("uq_follow_ups_key", "follow_ups", ["key"], unique=True)
    op.add_column("compensation_offers", sa.Column("seq", sa.Integer(), nullable=True))
    op.create_index("uq_compensation_offers_case_id_seq", "compensation_offers", ["case_id", "seq"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_compensation_offers_case_id_seq", "compensation_offers")
    op.drop_index("uq_follow_ups_key", "follow_ups")
    for table, column in (("compensation_offers", "seq"), ("follow_ups", "key"), ("follow_ups", "kind"),
                          ("refunds", "actor"), ("refunds", "state"), ("after_sales_cases", "item_sku")):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
