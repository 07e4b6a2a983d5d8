"""SQLAlchemy models: what the after-sales rules need to know, and what the bot records.

Money is Numeric(10, 2) (Decimal in Python); times are naive UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()
Money = Numeric(10, 2)


class Customer(Base):
    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)
    phone = Column(String(20), nullable=False, index=True)


class OrderRow(Base):
    __tablename__ = "orders"
    order_id = Column(String(32), primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False)
    phone = Column(String(20), nullable=False, index=True)
    paid_at = Column(DateTime, nullable=False)
    free_shipping = Column(Boolean, nullable=False, default=True)
    shipping_fee = Column(Money, nullable=False, default=0)
    shipping_cost = Column(Money, nullable=False, default=0)
    warehouse = Column(String(32), nullable=False)
    customer = relationship(Customer)
    items = relationship("ItemRow", order_by="ItemRow.id", cascade="all, delete-orphan")
    shipment = relationship("ShipmentRow", uselist=False, cascade="all, delete-orphan")


class ItemRow(Base):
    __tablename__ = "order_items"
    id = Column(Integer, primary_key=True)
    order_id = Column(String(32), ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False, index=True)
    sku = Column(String(32), nullable=False)
    name = Column(String(64), nullable=False)
    category = Column(String(32), nullable=False)
    price = Column(Money, nullable=False)
    cost = Column(Money, nullable=False)
    quantity = Column(Integer, nullable=False, default=1)
    color = Column(String(32))
    size = Column(String(32))
    special = Column(String(16), nullable=False, default="none")
    warranty_months = Column(Integer, nullable=False, default=0)
    invoice_date = Column(DateTime)
    manufacture_date = Column(DateTime)


class ShipmentRow(Base):
    __tablename__ = "shipments"
    id = Column(Integer, primary_key=True)
    order_id = Column(String(32), ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False, unique=True)
    carrier = Column(String(32), nullable=False)
    tracking_no = Column(String(40))
    state = Column(String(20), nullable=False)
    origin_city = Column(String(32), nullable=False)
    origin_province = Column(String(32), nullable=False)
    dest_city = Column(String(32), nullable=False)
    dest_province = Column(String(32), nullable=False)
    label_printed_at = Column(DateTime)
    picked_up_at = Column(DateTime)
    delivered_at = Column(DateTime)
    return_tracking_no = Column(String(40))
    events = relationship("TrackingEventRow", order_by="TrackingEventRow.at", cascade="all, delete-orphan")


class TrackingEventRow(Base):
    __tablename__ = "tracking_events"
    id = Column(Integer, primary_key=True)
    shipment_id = Column(Integer, ForeignKey("shipments.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(DateTime, nullable=False)
    location = Column(String(64), nullable=False)
    description = Column(String(200), nullable=False)


class CaseRow(Base):
    __tablename__ = "after_sales_cases"
    id = Column(Integer, primary_key=True)
    order_id = Column(String(32), ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False, index=True)
    kind = Column(String(32), nullable=False)
    rule = Column(String(16), nullable=False)
    status = Column(String(20), nullable=False)
    refund_amount = Column(Money)
    opened_at = Column(DateTime, nullable=False)
    closed_at = Column(DateTime)
    conversation_id = Column(String(128), index=True)
    note = Column(Text, nullable=False, default="")
    detail = Column(JSON)


class EvidenceRow(Base):
    __tablename__ = "evidence"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("after_sales_cases.id", ondelete="CASCADE"), index=True)
    conversation_id = Column(String(128), index=True)
    path = Column(String(300), nullable=False)
    content_type = Column(String(40), nullable=False)
    size = Column(Integer, nullable=False)
    uploaded_at = Column(DateTime, nullable=False)


class OfferRow(Base):
    __tablename__ = "compensation_offers"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("after_sales_cases.id", ondelete="CASCADE"), nullable=False, index=True)
    round = Column(Integer, nullable=False)
    actor = Column(String(10), nullable=False)  # shop | shopper
    amount = Column(Money)
    reason = Column(Text, nullable=False, default="")
    outcome = Column(String(24), nullable=False, default="")
    at = Column(DateTime, nullable=False)


class RefundRow(Base):
    __tablename__ = "refunds"
    __table_args__ = (UniqueConstraint("key", name="uq_refunds_key"),)
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("after_sales_cases.id", ondelete="CASCADE"), nullable=False, index=True)
    key = Column(String(80), nullable=False)  # idempotency key: one refund per accepted deal
    amount = Column(Money, nullable=False)
    created_at = Column(DateTime, nullable=False)


class FollowUpRow(Base):
    __tablename__ = "follow_ups"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("after_sales_cases.id", ondelete="CASCADE"), index=True)
    conversation_id = Column(String(128), index=True)
    promise = Column(Text, nullable=False)
    due_at = Column(DateTime, nullable=False, index=True)
    done_at = Column(DateTime)
    reported_at = Column(DateTime)


class HandoffRow(Base):
    __tablename__ = "handoffs"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    case_id = Column(Integer, ForeignKey("after_sales_cases.id", ondelete="SET NULL"))
    reason = Column(String(64), nullable=False)
    summary = Column(Text, nullable=False)
    status = Column(String(16), nullable=False, default="waiting")
    created_at = Column(DateTime, nullable=False)


class RatingRow(Base):
    __tablename__ = "ratings"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    score = Column(Integer, nullable=False)
    comment = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False)
