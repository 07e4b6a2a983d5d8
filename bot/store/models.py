"""SQLAlchemy models: what the after-sales rules need to know, and what the bot records.

Money is Numeric(10, 2) (Decimal in Python); times are naive UTC. Constraint names
follow one naming convention so later migrations can alter them on SQLite and
PostgreSQL alike. Only ``bot.store.repository`` touches these classes.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Base = declarative_base(metadata=MetaData(naming_convention=NAMING))
Money = Numeric(10, 2)
CONVERSATION = String(128)  # Rasa sender ids


def _case_fk(ondelete: str = "CASCADE") -> ForeignKey:
    return ForeignKey("after_sales_cases.id", ondelete=ondelete)


class Customer(Base):
    """The shopper's account; one per phone in the demo."""

    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)
    phone = Column(String(20), nullable=False, index=True)


class OrderRow(Base):
    """An order as paid. ``phone`` is the receiver's phone on the order: what proves ownership."""

    __tablename__ = "orders"
    order_id = Column(String(32), primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    phone = Column(String(20), nullable=False, index=True)
    paid_at = Column(DateTime, nullable=False)
    free_shipping = Column(Boolean, nullable=False, default=True)
    shipping_fee = Column(Money, nullable=False, default=0)  # what the shopper paid (R3)
    shipping_cost = Column(Money, nullable=False, default=0)  # the shop's contract rate (R12)
    warehouse = Column(String(32), nullable=False)  # key into shop.yml warehouses (R6)
    customer = relationship(Customer)
    items = relationship("ItemRow", order_by="ItemRow.id", cascade="all, delete-orphan")
    shipment = relationship("ShipmentRow", uselist=False, cascade="all, delete-orphan")


class ItemRow(Base):
    """One line of an order, with what R6, R9 and R13 need: category, margin, dates."""

    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)
    id = Column(Integer, primary_key=True)
    order_id = Column(
        String(32), ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False, index=True
    )
    sku = Column(String(32), nullable=False)
    name = Column(String(64), nullable=False)
    category = Column(String(32), nullable=False)  # key into shop.yml warranty
    price = Column(Money, nullable=False)
    cost = Column(Money, nullable=False)
    quantity = Column(Integer, nullable=False, default=1)
    color = Column(String(32))
    size = Column(String(32))
    special = Column(String(16), nullable=False, default="none")  # bot.domain.SpecialGoods
    warranty_months = Column(Integer, nullable=False, default=0)
    invoice_date = Column(DateTime)
    manufacture_date = Column(DateTime)


class ShipmentRow(Base):
    """The parcel: R1 counts "shipped" from ``picked_up_at``, R4 from ``label_printed_at``."""

    __tablename__ = "shipments"
    id = Column(Integer, primary_key=True)
    order_id = Column(
        String(32), ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False, unique=True
    )
    carrier = Column(String(32), nullable=False)
    tracking_no = Column(String(40))
    state = Column(String(20), nullable=False)  # bot.domain.ShipState
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
    """A courier scan, shown as ``location + description`` (【杭州市】 快件已揽收)."""

    __tablename__ = "tracking_events"
    id = Column(Integer, primary_key=True)
    shipment_id = Column(Integer, ForeignKey("shipments.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(DateTime, nullable=False)
    location = Column(String(64), nullable=False)
    description = Column(String(200), nullable=False)


class CaseRow(Base):
    """An after-sales case: what was asked, which rule decided, how it ended."""

    __tablename__ = "after_sales_cases"
    id = Column(Integer, primary_key=True)
    order_id = Column(
        String(32), ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind = Column(String(32), nullable=False)
    item_sku = Column(String(32))  # the item the request is about; None = the whole order
    rule = Column(String(16), nullable=False)
    status = Column(String(20), nullable=False)
    refund_amount = Column(Money)
    opened_at = Column(DateTime, nullable=False)
    closed_at = Column(DateTime)
    conversation_id = Column(CONVERSATION, index=True)
    note = Column(Text, nullable=False, default="")
    detail = Column(JSON)


class EvidenceRow(Base):
    """A file the shopper uploaded; the bytes live on disk at ``path``."""

    __tablename__ = "evidence"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, _case_fk(), index=True)
    conversation_id = Column(CONVERSATION, index=True)
    path = Column(String(300), nullable=False)
    content_type = Column(String(40), nullable=False)
    size = Column(Integer, nullable=False)
    uploaded_at = Column(DateTime, nullable=False)


class OfferRow(Base):
    """One offer or counter-offer of an R9 negotiation; ``seq`` is its place in the history."""

    __tablename__ = "compensation_offers"
    __table_args__ = (
        CheckConstraint("actor IN ('shop', 'shopper')", name="actor"),
        Index("uq_compensation_offers_case_id_seq", "case_id", "seq", unique=True),
    )
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, _case_fk(), nullable=False, index=True)
    seq = Column(Integer)
    round = Column(Integer, nullable=False)
    actor = Column(String(10), nullable=False)
    amount = Column(Money)
    reason = Column(Text, nullable=False, default="")
    outcome = Column(String(24), nullable=False, default="")
    at = Column(DateTime, nullable=False)


class RefundRow(Base):
    """Money granted. The unique key makes every grant pay exactly once, across processes.

    ``state`` is "approved" (paid now) or "awaiting_return" (paid when the return reaches the
    warehouse, R2/R5/R12); ``actor`` is "bot" or the agent who approved it.
    """

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("key", name="uq_refunds_key"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, _case_fk(), nullable=False, index=True)
    key = Column(String(80), nullable=False)
    amount = Column(Money, nullable=False)
    created_at = Column(DateTime, nullable=False)
    state = Column(String(20), nullable=False, default="approved", server_default="approved")
    actor = Column(String(64), nullable=False, default="bot", server_default="bot")


class FollowUpRow(Base):
    """An R14 promise, kept (``done_at``) and reported back (``reported_at``)."""

    __tablename__ = "follow_ups"
    __table_args__ = (Index("uq_follow_ups_key", "key", unique=True),)
    id = Column(Integer, primary_key=True)
    kind = Column(String(24), nullable=False, default="promise", server_default="promise")
    key = Column(String(120))  # derived from the case and the promise: a retry records it once
    case_id = Column(Integer, _case_fk(), index=True)
    conversation_id = Column(CONVERSATION, index=True)
    promise = Column(Text, nullable=False)
    due_at = Column(DateTime, nullable=False, index=True)
    done_at = Column(DateTime)
    reported_at = Column(DateTime)


class HandoffRow(Base):
    """An R15 handover to a human agent, with the summary the agent reads first."""

    __tablename__ = "handoffs"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(CONVERSATION, nullable=False, index=True)
    case_id = Column(Integer, _case_fk("SET NULL"), index=True)
    reason = Column(String(64), nullable=False)
    summary = Column(Text, nullable=False)
    status = Column(String(16), nullable=False, default="waiting")
    created_at = Column(DateTime, nullable=False)


class RatingRow(Base):
    """The shopper's satisfaction score at the end of a conversation."""

    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)
    id = Column(Integer, primary_key=True)
    conversation_id = Column(CONVERSATION, nullable=False, index=True)
    score = Column(Integer, nullable=False)
    comment = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False)


# ---- the agent console (issue #12): handoff state, agents, transcript, canned replies ----------


class HandoffStateRow(Base):
    """Where a conversation stands: bot, queued, claimed or closed (``bot.handoff.TRANSITIONS``).

    One row per conversation, changed only by ``ConsoleRepository.transition``, which checks
    the move inside the transaction with a conditional UPDATE (so two claims: one wins).
    """

    __tablename__ = "handoff_states"
    __table_args__ = (CheckConstraint("state IN ('bot', 'queued', 'claimed', 'closed')", name="state"),)
    conversation_id = Column(CONVERSATION, primary_key=True)
    state = Column(String(10), nullable=False, default="bot")
    channel = Column(String(20), nullable=False, default="")
    reason = Column(String(64), nullable=False, default="")
    urgent = Column(Boolean, nullable=False, default=False)
    case_id = Column(Integer, _case_fk("SET NULL"))
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="SET NULL"))
    agent = Column(String(40))
    last_agent = Column(String(40))
    queued_at = Column(DateTime)
    claimed_at = Column(DateTime)
    released_at = Column(DateTime)
    message_left_at = Column(DateTime)
    updated_at = Column(DateTime, nullable=False)


class ConsoleUserRow(Base):
    """A console account; the password only as an argon2 hash."""

    __tablename__ = "console_users"
    __table_args__ = (CheckConstraint("role IN ('agent', 'trainer', 'manager')", name="role"),)
    username = Column(String(40), primary_key=True)
    display_name = Column(String(40), nullable=False)
    role = Column(String(10), nullable=False)
    password_hash = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False)
    last_seen_at = Column(DateTime, index=True)


class ConsoleSessionRow(Base):
    """A logged-in browser: the cookie's SHA-256 (never the cookie), its CSRF token, its expiry."""

    __tablename__ = "console_sessions"
    token_hash = Column(String(64), primary_key=True)
    username = Column(String(40), ForeignKey("console_users.username", ondelete="CASCADE"), nullable=False)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False, index=True)


class ConsoleMessageRow(Base):
    """What the human phase adds to a transcript: agent replies, internal notes, system notes."""

    __tablename__ = "console_messages"
    __table_args__ = (CheckConstraint("kind IN ('agent', 'note', 'system', 'user')", name="kind"),)
    id = Column(Integer, primary_key=True)
    conversation_id = Column(CONVERSATION, nullable=False, index=True)
    kind = Column(String(10), nullable=False)
    author = Column(String(40), nullable=False, default="")
    text = Column(Text, nullable=False)
    at = Column(DateTime, nullable=False)


class CannedReplyRow(Base):
    """A saved answer an agent inserts by its short code (``/退货地址``)."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("code", name="uq_canned_replies_code"),)
    id = Column(Integer, primary_key=True)
    code = Column(String(40), nullable=False)
    text = Column(Text, nullable=False)
    updated_by = Column(String(40), nullable=False, default="")
    updated_at = Column(DateTime, nullable=False)
class ProofFailureRow(Base):
    """A wrong ownership proof for an order number (existing or not), counted across conversations.

    Enough of them within the window lock the number out of the bot for a while (shop.yml
    ``identity``); ``client`` is the caller's address when the channel knows it.
    """

    __tablename__ = "proof_failures"
    id = Column(Integer, primary_key=True)
    order_id = Column(String(32), nullable=False, index=True)
    conversation_id = Column(CONVERSATION, nullable=False)
    client = Column(String(64), nullable=True)
    at = Column(DateTime, nullable=False, index=True)
# ---- trainer inbox (issue #14) -----------------------------------------------------------


class TrainerFlagRow(Base):
    """A message an agent flagged for the trainers from the console."""

    __tablename__ = "trainer_flags"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(CONVERSATION, nullable=False, index=True)
    text = Column(Text, nullable=False)
    flagged_by = Column(String(64), nullable=False)
    note = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False)


class TrainerItemRow(Base):
    """A handled inbox item (all messages with the same normalised text): annotated or discarded."""

    __tablename__ = "trainer_items"
    __table_args__ = (CheckConstraint("state IN ('annotated', 'discarded')", name="state_known"),)
    key = Column(String(40), primary_key=True)
    state = Column(String(16), nullable=False)
    intent = Column(String(64), nullable=True)
    actor = Column(String(64), nullable=False)
    commit = Column(String(40), nullable=True)
    handled_at = Column(DateTime, nullable=False)
