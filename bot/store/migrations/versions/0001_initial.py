"""Initial schema: orders and what the after-sales assistant records about them.

Written by hand and checked against ``bot.store.models`` (tests/unit/test_store.py
compares the migrated schema with the models). Constraint names follow the models'
naming convention so later batch migrations can find them on SQLite.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MONEY = sa.Numeric(10, 2)
CONVERSATION = sa.String(128)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def _fk_case(table: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["case_id"], ["after_sales_cases.id"], name=f"fk_{table}_case_id_after_sales_cases", ondelete=ondelete
    )


def _fk_order(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["order_id"], ["orders.order_id"], name=f"fk_{table}_order_id_orders", ondelete="CASCADE"
    )


def _orders() -> None:
    op.create_table(
        "customers",
        _id(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
    )
    _index("customers", "phone")
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("paid_at", sa.DateTime(), nullable=False),
        sa.Column("free_shipping", sa.Boolean(), nullable=False),
        sa.Column("shipping_fee", MONEY, nullable=False),
        sa.Column("shipping_cost", MONEY, nullable=False),
        sa.Column("warehouse", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name="fk_orders_customer_id_customers"),
        sa.PrimaryKeyConstraint("order_id", name="pk_orders"),
    )
    _index("orders", "customer_id", "phone")
    op.create_table(
        "order_items",
        _id(),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("sku", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("cost", MONEY, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("color", sa.String(32), nullable=True),
        sa.Column("size", sa.String(32), nullable=True),
        sa.Column("special", sa.String(16), nullable=False),
        sa.Column("warranty_months", sa.Integer(), nullable=False),
        sa.Column("invoice_date", sa.DateTime(), nullable=True),
        sa.Column("manufacture_date", sa.DateTime(), nullable=True),
        sa.CheckConstraint("quantity > 0", name="ck_order_items_quantity_positive"),
        _fk_order("order_items"),
        sa.PrimaryKeyConstraint("id", name="pk_order_items"),
    )
    _index("order_items", "order_id")


def _shipping() -> None:
    op.create_table(
        "shipments",
        _id(),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("carrier", sa.String(32), nullable=False),
        sa.Column("tracking_no", sa.String(40), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("origin_city", sa.String(32), nullable=False),
        sa.Column("origin_province", sa.String(32), nullable=False),
        sa.Column("dest_city", sa.String(32), nullable=False),
        sa.Column("dest_province", sa.String(32), nullable=False),
        sa.Column("label_printed_at", sa.DateTime(), nullable=True),
        sa.Column("picked_up_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("return_tracking_no", sa.String(40), nullable=True),
        _fk_order("shipments"),
        sa.PrimaryKeyConstraint("id", name="pk_shipments"),
        sa.UniqueConstraint("order_id", name="uq_shipments_order_id"),
    )
    op.create_table(
        "tracking_events",
        _id(),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name="fk_tracking_events_shipment_id_shipments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tracking_events"),
    )
    _index("tracking_events", "shipment_id")


def _cases() -> None:
    op.create_table(
        "after_sales_cases",
        _id(),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("refund_amount", MONEY, nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("conversation_id", CONVERSATION, nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        _fk_order("after_sales_cases"),
        sa.PrimaryKeyConstraint("id", name="pk_after_sales_cases"),
    )
    _index("after_sales_cases", "order_id", "conversation_id")
    op.create_table(
        "evidence",
        _id(),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", CONVERSATION, nullable=True),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        _fk_case("evidence"),
        sa.PrimaryKeyConstraint("id", name="pk_evidence"),
    )
    _index("evidence", "case_id", "conversation_id")


def _money() -> None:
    op.create_table(
        "compensation_offers",
        _id(),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(10), nullable=False),
        sa.Column("amount", MONEY, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("actor IN ('shop', 'shopper')", name="ck_compensation_offers_actor"),
        _fk_case("compensation_offers"),
        sa.PrimaryKeyConstraint("id", name="pk_compensation_offers"),
    )
    _index("compensation_offers", "case_id")
    op.create_table(
        "refunds",
        _id(),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_refunds_amount_positive"),
        _fk_case("refunds"),
        sa.PrimaryKeyConstraint("id", name="pk_refunds"),
        # The idempotency key: one refund per accepted deal, whatever process asks twice.
        sa.UniqueConstraint("key", name="uq_refunds_key"),
    )
    _index("refunds", "case_id")


def _conversations() -> None:
    op.create_table(
        "follow_ups",
        _id(),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", CONVERSATION, nullable=True),
        sa.Column("promise", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("reported_at", sa.DateTime(), nullable=True),
        _fk_case("follow_ups"),
        sa.PrimaryKeyConstraint("id", name="pk_follow_ups"),
    )
    _index("follow_ups", "case_id", "conversation_id", "due_at")
    op.create_table(
        "handoffs",
        _id(),
        sa.Column("conversation_id", CONVERSATION, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk_case("handoffs", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_handoffs"),
    )
    _index("handoffs", "conversation_id", "case_id")
    op.create_table(
        "ratings",
        _id(),
        sa.Column("conversation_id", CONVERSATION, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_ratings_score_range"),
        sa.PrimaryKeyConstraint("id", name="pk_ratings"),
    )
    _index("ratings", "conversation_id")


TABLES = [
    "ratings", "handoffs", "follow_ups", "refunds", "compensation_offers", "evidence",
    "after_sales_cases", "tracking_events", "shipments", "order_items", "orders", "customers",
]  # fmt: skip


def upgrade() -> None:
    """Parents before children, so every foreign key has its table."""
    _orders()
    _shipping()
    _cases()
    _money()
    _conversations()


def downgrade() -> None:
    """Children before parents; dropping a table drops its indexes and constraints."""
    for table in TABLES:
        op.drop_table(table)
