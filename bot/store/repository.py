"""The one way actions reach order data. Returns plain dataclasses, never sessions."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Callable, Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload, sessionmaker

from bot.domain import Case, Item, Order, Shipment, ShipState, SpecialGoods, TrackingEvent
from bot.store import models as m


def _to_order(row: m.OrderRow) -> Order:
    s = row.shipment
    shipment = Shipment(
        carrier=s.carrier, tracking_no=s.tracking_no, state=ShipState(s.state),
        origin_city=s.origin_city, origin_province=s.origin_province,
        dest_city=s.dest_city, dest_province=s.dest_province,
        label_printed_at=s.label_printed_at, picked_up_at=s.picked_up_at, delivered_at=s.delivered_at,
        return_tracking_no=s.return_tracking_no,
        events=[TrackingEvent(e.at, e.location, e.description) for e in s.events],
    )
    items = [
        Item(sku=i.sku, name=i.name, category=i.category, price=Decimal(i.price), cost=Decimal(i.cost),
             quantity=i.quantity, color=i.color, size=i.size, special=SpecialGoods(i.special),
             warranty_months=i.warranty_months, invoice_date=i.invoice_date, manufacture_date=i.manufacture_date)
        for i in row.items
    ]
    return Order(order_id=row.order_id, phone=row.phone, paid_at=row.paid_at, free_shipping=row.free_shipping,
                 shipping_fee=Decimal(row.shipping_fee), shipping_cost=Decimal(row.shipping_cost),
                 warehouse=row.warehouse, items=items, shipment=shipment,
                 customer_name=row.customer.name if row.customer else "")


def _to_case(row: m.CaseRow) -> Case:
    return Case(case_id=row.id, order_id=row.order_id, kind=row.kind, rule=row.rule, status=row.status,
                refund_amount=Decimal(row.refund_amount) if row.refund_amount is not None else None,
                opened_at=row.opened_at, closed_at=row.closed_at, conversation_id=row.conversation_id,
                note=row.note or "")


_ORDER_LOAD = (
    selectinload(m.OrderRow.items),
    selectinload(m.OrderRow.customer),
    selectinload(m.OrderRow.shipment).selectinload(m.ShipmentRow.events),
)


class OrderRepository:
    """Orders, cases, offers, refunds, follow-ups, handoffs and ratings."""

    def __init__(self, sessions: sessionmaker, clock: Callable[[], datetime] = datetime.utcnow) -> None:
        self._sessions = sessions
        self._clock = clock

    # ---- orders ------------------------------------------------------------------------

    def get_order(self, order_id: str) -> Optional[Order]:
        with self._sessions() as s:
            row = s.execute(select(m.OrderRow).options(*_ORDER_LOAD)
                            .where(m.OrderRow.order_id == str(order_id))).scalar_one_or_none()
            return _to_order(row) if row else None

    def orders_for_phone(self, phone: str, limit: int = 5) -> List[Order]:
        with self._sessions() as s:
            rows = s.execute(select(m.OrderRow).options(*_ORDER_LOAD).where(m.OrderRow.phone == phone)
                             .order_by(m.OrderRow.paid_at.desc()).limit(limit)).scalars()
            return [_to_order(r) for r in rows]

    def verify_owner(self, order_id: str, proof: str) -> bool:
        """True when ``proof`` is the order's full phone or its last four digits."""
        digits = re.sub(r"\D", "", str(proof or ""))
        if len(digits) not in (4, 11):
            return False
        with self._sessions() as s:
            phone = s.execute(select(m.OrderRow.phone).where(m.OrderRow.order_id == str(order_id))).scalar()
        if not phone:
            return False
        return phone == digits if len(digits) == 11 else phone[-4:] == digits

    def set_return_tracking(self, order_id: str, tracking_no: str) -> None:
        with self._sessions.begin() as s:
            shipment = s.execute(select(m.ShipmentRow).where(m.ShipmentRow.order_id == order_id)).scalar_one()
            shipment.return_tracking_no = tracking_no[:40]

    # ---- cases -------------------------------------------------------------------------

    def open_case(self, order_id: str, kind: str, rule: str, conversation_id: Optional[str],
                  status: str = "open", note: str = "", refund_amount: Optional[Decimal] = None) -> Case:
        with self._sessions.begin() as s:
            row = m.CaseRow(order_id=order_id, kind=kind, rule=rule, status=status, note=note,
                            refund_amount=refund_amount, opened_at=self._clock(), conversation_id=conversation_id)
            s.add(row)
            s.flush()
            return _to_case(row)

    def update_case(self, case_id: int, *, status: Optional[str] = None, refund_amount: Optional[Decimal] = None,
                    rule: Optional[str] = None, note: Optional[str] = None, close: bool = False) -> Case:
        with self._sessions.begin() as s:
            row = s.get(m.CaseRow, case_id)
            if row is None:
                raise KeyError(f"no case {case_id}")
            if status is not None:
                row.status = status
            if refund_amount is not None:
                row.refund_amount = refund_amount
            if rule is not None:
                row.rule = rule
            if note is not None:
                row.note = note
            if close and row.closed_at is None:
                row.closed_at = self._clock()
            s.flush()
            return _to_case(row)

    def cases_for_order(self, order_id: str) -> List[Case]:
        with self._sessions() as s:
            rows = s.execute(select(m.CaseRow).where(m.CaseRow.order_id == order_id).order_by(m.CaseRow.id)).scalars()
            return [_to_case(r) for r in rows]

    def open_case_for(self, order_id: str, kind: str) -> Optional[Case]:
        with self._sessions() as s:
            row = s.execute(select(m.CaseRow).where(m.CaseRow.order_id == order_id, m.CaseRow.kind == kind,
                                                    m.CaseRow.closed_at.is_(None))
                            .order_by(m.CaseRow.id.desc())).scalars().first()
            return _to_case(row) if row else None

    # ---- compensation --------------------------------------------------------------------

    def record_offer(self, case_id: int, round: int, actor: str, amount: Optional[Decimal], reason: str,
                     outcome: str) -> None:
        with self._sessions.begin() as s:
            s.add(m.OfferRow(case_id=case_id, round=round, actor=actor, amount=amount, reason=reason,
                             outcome=outcome, at=self._clock()))

    def offers_for_case(self, case_id: int) -> List[Dict]:
        with self._sessions() as s:
            rows = s.execute(select(m.OfferRow).where(m.OfferRow.case_id == case_id).order_by(m.OfferRow.id)).scalars()
            return [{"round": r.round, "actor": r.actor, "amount": r.amount, "reason": r.reason,
                     "outcome": r.outcome, "at": r.at} for r in rows]

    def create_refund(self, case_id: int, amount: Decimal, key: str) -> Tuple[int, bool]:
        """One refund per key, also across processes (unique constraint). Returns (id, created)."""
        try:
            with self._sessions.begin() as s:
                row = m.RefundRow(case_id=case_id, key=key, amount=amount, created_at=self._clock())
                s.add(row)
                s.flush()
                return row.id, True
        except IntegrityError:
            with self._sessions() as s:
                existing = s.execute(select(m.RefundRow.id).where(m.RefundRow.key == key)).scalar_one()
                return existing, False

    def refunds_for_case(self, case_id: int) -> List[Decimal]:
        with self._sessions() as s:
            return [Decimal(a) for a in s.execute(select(m.RefundRow.amount).where(m.RefundRow.case_id == case_id))
                    .scalars()]

    # ---- evidence, promises, handoffs, ratings -------------------------------------------

    def add_evidence(self, case_id: Optional[int], path: str, content_type: str, size: int,
                     conversation_id: Optional[str] = None) -> int:
        with self._sessions.begin() as s:
            row = m.EvidenceRow(case_id=case_id, conversation_id=conversation_id, path=path,
                                content_type=content_type, size=size, uploaded_at=self._clock())
            s.add(row)
            s.flush()
            return row.id

    def add_follow_up(self, case_id: Optional[int], conversation_id: str, promise: str, due_at: datetime) -> int:
        """R14: a promise is recorded with its due time, so it can be kept and reported."""
        with self._sessions.begin() as s:
            row = m.FollowUpRow(case_id=case_id, conversation_id=conversation_id, promise=promise, due_at=due_at)
            s.add(row)
            s.flush()
            return row.id

    def due_follow_ups(self, now: datetime) -> List[Dict]:
        with self._sessions() as s:
            rows = s.execute(select(m.FollowUpRow).where(m.FollowUpRow.done_at.is_(None),
                                                         m.FollowUpRow.due_at <= now)).scalars()
            return [{"id": r.id, "case_id": r.case_id, "conversation_id": r.conversation_id,
                     "promise": r.promise, "due_at": r.due_at} for r in rows]

    def follow_ups_for_case(self, case_id: int) -> List[Dict]:
        with self._sessions() as s:
            rows = s.execute(select(m.FollowUpRow).where(m.FollowUpRow.case_id == case_id)).scalars()
            return [{"id": r.id, "promise": r.promise, "due_at": r.due_at, "done_at": r.done_at} for r in rows]

    def record_handoff(self, conversation_id: str, case_id: Optional[int], reason: str, summary: str) -> int:
        with self._sessions.begin() as s:
            row = m.HandoffRow(conversation_id=conversation_id, case_id=case_id, reason=reason, summary=summary,
                               created_at=self._clock())
            s.add(row)
            s.flush()
            return row.id

    def handoffs(self, conversation_id: Optional[str] = None) -> List[Dict]:
        with self._sessions() as s:
            query = select(m.HandoffRow).order_by(m.HandoffRow.id)
            if conversation_id:
                query = query.where(m.HandoffRow.conversation_id == conversation_id)
            return [{"id": r.id, "conversation_id": r.conversation_id, "case_id": r.case_id, "reason": r.reason,
                     "summary": r.summary, "status": r.status} for r in s.execute(query).scalars()]

    def save_rating(self, conversation_id: str, score: int, comment: str = "") -> int:
        if not 1 <= int(score) <= 5:
            raise ValueError("score must be 1-5")
        with self._sessions.begin() as s:
            row = m.RatingRow(conversation_id=conversation_id, score=int(score), comment=(comment or "")[:2000],
                              created_at=self._clock())
            s.add(row)
            s.flush()
            return row.id
