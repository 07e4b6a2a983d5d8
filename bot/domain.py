"""Plain data the rest of the product speaks: what an order looks like to the rules.

The repository (``bot.store``) returns these dataclasses, never ORM objects or
sessions, so the after-sales policy (``bot.policy``) and the compensation engine
(``bot.bargain``) stay pure Python and are tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Dict, List, Optional


class ShipState(str, Enum):
    """Where the parcel is, as the courier's scans say (R1: pickup scan = shipped)."""

    NOT_SHIPPED = "not_shipped"  # paid, nothing printed yet
    LABEL_PRINTED = "label_printed"  # label printed, no pickup scan
    IN_TRANSIT = "in_transit"  # picked up, moving
    DELIVERED = "delivered"  # signed for
    REFUSED = "refused"  # buyer refused, coming back (R5)
    LOST = "lost"  # courier confirmed lost


class SpecialGoods(str, Enum):
    """Goods excluded from the seven-day no-reason return-and-refund (R6)."""

    NONE = "none"
    FRESH = "fresh"  # 生鲜水果
    VIRTUAL = "virtual"  # 虚拟商品
    CUSTOM = "custom"  # 定制


@dataclass(frozen=True)
class TrackingEvent:
    at: datetime
    location: str
    description: str


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    category: str  # key into settings.yml warranty/category tables, e.g. "apparel", "laptop"
    price: Decimal  # what the shopper paid for one unit, 元
    cost: Decimal  # what it cost the shop, 元 (price - cost = margin)
    quantity: int = 1
    color: Optional[str] = None
    size: Optional[str] = None
    special: SpecialGoods = SpecialGoods.NONE
    warranty_months: int = 0
    invoice_date: Optional[datetime] = None
    manufacture_date: Optional[datetime] = None

    @property
    def margin(self) -> Decimal:
        return self.price - self.cost


@dataclass(frozen=True)
class Shipment:
    carrier: str
    tracking_no: Optional[str]
    state: ShipState
    origin_city: str
    origin_province: str
    dest_city: str
    dest_province: str
    label_printed_at: Optional[datetime] = None
    picked_up_at: Optional[datetime] = None
    delivered_at: Optional[datetime] = None
    return_tracking_no: Optional[str] = None
    events: List[TrackingEvent] = field(default_factory=list)

    @property
    def same_city(self) -> bool:
        return self.origin_city == self.dest_city

    @property
    def same_province(self) -> bool:
        return self.origin_province == self.dest_province


@dataclass(frozen=True)
class Order:
    order_id: str
    phone: str  # full phone: never log it, show it masked (see bot.text.mask_phone)
    paid_at: datetime
    free_shipping: bool
    shipping_fee: Decimal  # what the shopper paid for shipping (0 when free)
    shipping_cost: Decimal  # the shop's contract rate with the courier (R12)
    warehouse: str  # key into settings.yml warehouses (return address, R6)
    items: List[Item]
    shipment: Shipment
    customer_name: str = ""

    @property
    def total(self) -> Decimal:
        return sum((i.price * i.quantity for i in self.items), Decimal("0")) + self.shipping_fee

    @property
    def phone_tail(self) -> str:
        return self.phone[-4:]


@dataclass(frozen=True)
class Case:
    """An after-sales case as stored: what was asked, which rule decided, how it ended."""

    case_id: int
    order_id: str
    kind: str
    rule: str
    status: str  # open / waiting_evidence / waiting_return / closed / handed_off
    refund_amount: Optional[Decimal]
    opened_at: datetime
    closed_at: Optional[datetime]
    conversation_id: Optional[str]
    note: str = ""
    detail: Dict[str, Any] = field(default_factory=dict)  # rule-specific facts (photos asked, deal terms)
    item_sku: Optional[str] = None  # the item the case is about; None = the whole order

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class Offer:
    """One step of an R9 negotiation: who proposed what, why, and how it ended."""

    offer_id: int
    case_id: int
    round: int
    actor: str  # shop | shopper
    amount: Optional[Decimal]
    reason: str
    outcome: str
    at: datetime


@dataclass(frozen=True)
class Refund:
    """Money actually sent back: one per idempotency key, so a deal never pays twice."""

    refund_id: int
    case_id: int
    key: str
    amount: Decimal
    created_at: datetime
    state: str = "approved"  # approved (paid now) | awaiting_return (paid when the return arrives)
    actor: str = "bot"  # the bot, or the agent who approved it


@dataclass(frozen=True)
class Evidence:
    """A photo or file the shopper sent for a case (R8, R10, R16)."""

    evidence_id: int
    case_id: Optional[int]
    conversation_id: Optional[str]
    path: str
    content_type: str
    size: int
    uploaded_at: datetime


@dataclass(frozen=True)
class FollowUp:
    """An R14 promise: due by ``due_at``, done when kept, reported when the shopper was told."""

    follow_up_id: int
    case_id: Optional[int]
    conversation_id: Optional[str]
    promise: str
    due_at: datetime
    done_at: Optional[datetime] = None
    reported_at: Optional[datetime] = None
    kind: str = "promise"  # photo_reminder | courier_news | refund_on_return | reship_tracking | promise


@dataclass(frozen=True)
class HandoffRecord:
    """An R15 handover as the agent console reads it: why, and the story so far."""

    handoff_id: int
    conversation_id: str
    case_id: Optional[int]
    reason: str
    summary: str
    status: str  # waiting / taken / closed
    created_at: datetime


@dataclass(frozen=True)
class Grant:
    """Money a decision grants: one refund row under ``key`` (derived from the case, never random)."""

    amount: Decimal
    key: str
    state: str = "approved"  # or "awaiting_return": paid when the return reaches the warehouse
    actor: str = "bot"


@dataclass(frozen=True)
class Promise:
    """An R14 promise a decision makes: kept by the follow-up runner when ``due_at`` comes."""

    kind: str  # photo_reminder | courier_news | refund_on_return | reship_tracking | promise
    text: str
    due_at: datetime


@dataclass(frozen=True)
class CaseChange:
    """One decision about one request (order, item, kind), written in one transaction.

    ``case_id`` is the case the conversation is on: a hint, used only when it is about the
    same order and kind. ``decision_key`` names the shopper message the decision answers, so
    the same action call repeated (a Rasa retry, a restarted action server) changes nothing.
    """

    order_id: str
    kind: str
    rule: str
    status: str
    conversation_id: Optional[str]
    item_sku: Optional[str] = None
    note: str = ""
    detail: Dict[str, Any] = field(default_factory=dict)
    grant: Optional[Grant] = None
    promise: Optional[Promise] = None
    case_id: Optional[int] = None
    decision_key: Optional[str] = None


@dataclass(frozen=True)
class Recorded:
    """What ``record_decision`` wrote (or found written by an earlier try of the same call)."""

    case: Case
    refund: Optional[Refund] = None
    refund_created: bool = False
    repeated: bool = False  # the same decision was recorded before: nothing changed
