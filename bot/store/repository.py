"""The one way actions reach the shop's data.

Every method opens its own short session and returns ``bot.domain`` dataclasses, never
ORM objects or sessions, so callers cannot leak a transaction or lazy-load after close.
Times are naive UTC; ``clock`` is injectable so tests and demos control "now".
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.sql import Select

from bot.domain import (
    Case,
    CaseChange,
    Evidence,
    FollowUp,
    Grant,
    HandoffRecord,
    Item,
    Offer,
    Order,
    Recorded,
    Refund,
    Shipment,
    ShipState,
    SpecialGoods,
    TrackingEvent,
)
from bot.store import models as m

Clock = Callable[[], datetime]
T = TypeVar("T")
_ORDER_LOAD = (
    selectinload(m.OrderRow.items),
    selectinload(m.OrderRow.customer),
    selectinload(m.OrderRow.shipment).selectinload(m.ShipmentRow.events),
)


def _naive_utc(moment: datetime) -> datetime:
    """The database stores naive UTC; an aware time from a caller is converted, not misread."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _digits(text: Any) -> str:
    """Only the digits: shoppers type 138 0000 0004, 138-0000-0004 or +86 13800000004."""
    digits = re.sub(r"\D", "", str(text or ""))
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def _money(value: Any) -> Optional[Decimal]:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def _to_shipment(s: m.ShipmentRow) -> Shipment:
    return Shipment(
        carrier=s.carrier,
        tracking_no=s.tracking_no,
        state=ShipState(s.state),
        origin_city=s.origin_city,
        origin_province=s.origin_province,
        dest_city=s.dest_city,
        dest_province=s.dest_province,
        label_printed_at=s.label_printed_at,
        picked_up_at=s.picked_up_at,
        delivered_at=s.delivered_at,
        return_tracking_no=s.return_tracking_no,
        events=[TrackingEvent(e.at, e.location, e.description) for e in s.events],
    )


def _to_item(i: m.ItemRow) -> Item:
    return Item(
        sku=i.sku,
        name=i.name,
        category=i.category,
        price=_money(i.price),
        cost=_money(i.cost),
        quantity=i.quantity,
        color=i.color,
        size=i.size,
        special=SpecialGoods(i.special),
        warranty_months=i.warranty_months,
        invoice_date=i.invoice_date,
        manufacture_date=i.manufacture_date,
    )


def _to_order(row: m.OrderRow) -> Order:
    return Order(
        order_id=row.order_id,
        phone=row.phone,
        paid_at=row.paid_at,
        free_shipping=row.free_shipping,
        shipping_fee=_money(row.shipping_fee),
        shipping_cost=_money(row.shipping_cost),
        warehouse=row.warehouse,
        items=[_to_item(i) for i in row.items],
        shipment=_to_shipment(row.shipment),
        customer_name=row.customer.name if row.customer else "",
    )


def _to_case(row: m.CaseRow) -> Case:
    return Case(
        case_id=row.id,
        order_id=row.order_id,
        kind=row.kind,
        rule=row.rule,
        status=row.status,
        refund_amount=_money(row.refund_amount),
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        conversation_id=row.conversation_id,
        note=row.note or "",
        detail=dict(row.detail or {}),
        item_sku=row.item_sku,
    )


def _to_follow_up(r: m.FollowUpRow) -> FollowUp:
    return FollowUp(r.id, r.case_id, r.conversation_id, r.promise, r.due_at, r.done_at, r.reported_at, r.kind)


def _to_offer(r: m.OfferRow) -> Offer:
    return Offer(r.id, r.case_id, r.round, r.actor, _money(r.amount), r.reason, r.outcome, r.at)


def _to_refund(r: m.RefundRow) -> Refund:
    return Refund(r.id, r.case_id, r.key, _money(r.amount), r.created_at, r.state, r.actor)


def _to_evidence(r: m.EvidenceRow) -> Evidence:
    return Evidence(r.id, r.case_id, r.conversation_id, r.path, r.content_type, r.size, r.uploaded_at)


def _to_handoff(r: m.HandoffRow) -> HandoffRecord:
    return HandoffRecord(r.id, r.conversation_id, r.case_id, r.reason, r.summary, r.status, r.created_at)


class CaseMismatch(ValueError):
    """A change asked of a case that belongs to another order: refused, never applied."""


class RefundLimitExceeded(ValueError):
    """Granting this would refund more than the shopper paid for the order: a person decides."""


def paid_total(order: m.OrderRow) -> Decimal:
    """What the shopper paid: the goods and the shipping fee (the most any refunds may add up to)."""
    goods = sum((Decimal(i.price) * i.quantity for i in order.items), Decimal(0))
    return _money(goods + Decimal(order.shipping_fee or 0))


def _get(session: Session, model: type, key: Any) -> Any:
    """The row, or a KeyError naming what was missing (a bug in the caller, not the shopper)."""
    row = session.get(model, key)
    if row is None:
        raise KeyError(f"no {model.__tablename__} row {key!r}")
    return row


class OrderRepository:
    """Orders, cases, offers, refunds, evidence, follow-ups, handoffs and ratings."""

    def __init__(self, session_factory: sessionmaker, clock: Clock = lambda: datetime.utcnow()) -> None:
        self._sessions = session_factory
        self._clock = clock

    def _now(self) -> datetime:
        return _naive_utc(self._clock())

    def _all(self, query: Select, to: Callable[[Any], T]) -> List[T]:
        """Run a read query and map every row out while the session is still open."""
        with self._sessions() as session:
            return [to(row) for row in session.execute(query).scalars()]

    def _first(self, query: Select, to: Callable[[Any], T]) -> Optional[T]:
        found = self._all(query.limit(1), to)
        return found[0] if found else None

    def _add(self, row: Any) -> Any:
        """Insert one row in its own transaction and return it (ids filled in)."""
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
        return row

    # ---- orders ---------------------------------------------------------------------

    def get_order(self, order_id: str) -> Optional[Order]:
        """The order with its items, shipment and scans, or None when there is no such order."""
        query = select(m.OrderRow).options(*_ORDER_LOAD).where(m.OrderRow.order_id == str(order_id).strip())
        return self._first(query, _to_order)

    def item_names(self) -> List[str]:
        """The names of the goods the shop has sold (its catalogue as far as orders show it)."""
        with self._sessions() as session:
            return sorted({name for (name,) in session.execute(select(m.ItemRow.name).distinct())})

    def orders_for_phone(self, phone: str, limit: int = 5) -> List[Order]:
        """The phone's most recent orders first, so "my order" usually means the first one."""
        query = (
            select(m.OrderRow)
            .options(*_ORDER_LOAD)
            .where(m.OrderRow.phone == _digits(phone))
            .order_by(m.OrderRow.paid_at.desc(), m.OrderRow.order_id.desc())
            .limit(limit)
        )
        return self._all(query, _to_order)

    def verify_owner(self, order_id: str, proof: str) -> bool:
        """True when ``proof`` is the order's full phone or its last four digits.

        Anything else (three digits, another order's phone, no such order) is False. The
        digits are compared in constant time, so timing does not tell how many matched.
        """
        digits = _digits(proof)
        if len(digits) not in (4, 11):
            return False
        query = select(m.OrderRow.phone).where(m.OrderRow.order_id == str(order_id).strip())
        with self._sessions() as session:
            phone = session.execute(query).scalar_one_or_none()
        expected = phone[-len(digits) :] if phone else ""
        return hmac.compare_digest(expected.encode(), digits.encode())

    def set_return_tracking(self, order_id: str, tracking_no: str) -> None:
        """R5: the return parcel's tracking number, which lets the warehouse refund on arrival."""
        with self._sessions.begin() as session:
            query = select(m.ShipmentRow).where(m.ShipmentRow.order_id == str(order_id))
            shipment = session.execute(query).scalar_one_or_none()
            if shipment is None:
                raise KeyError(f"no shipment for order {order_id!r}")
            shipment.return_tracking_no = tracking_no.strip()[:40]

    # ---- cases ----------------------------------------------------------------------

    def open_case(
        self,
        order_id: str,
        kind: str,
        rule: str,
        conversation_id: Optional[str],
        status: str = "open",
        note: str = "",
        refund_amount: Optional[Decimal] = None,
        detail: Optional[Dict[str, Any]] = None,
    ) -> Case:
        """Record a new after-sales case, stamped with the clock's "now"."""
        row = m.CaseRow(
            order_id=str(order_id),
            kind=kind,
            rule=rule,
            status=status,
            note=note or "",
            refund_amount=_money(refund_amount),
            opened_at=self._now(),
            conversation_id=conversation_id,
            detail=detail or {},
        )
        return _to_case(self._add(row))

    def update_case(
        self,
        case_id: int,
        *,
        status: Optional[str] = None,
        refund_amount: Optional[Decimal] = None,
        rule: Optional[str] = None,
        note: Optional[str] = None,
        detail: Optional[Dict[str, Any]] = None,
        close: bool = False,
        order_id: Optional[str] = None,
    ) -> Case:
        """Change what is given; ``close`` stamps closed_at once (and status "closed" unless given).

        With ``order_id``, a case of another order is refused (``CaseMismatch``): a request about
        order B never rewrites order A's case. A closed case is not reopened by a status change.
        """
        with self._sessions.begin() as session:
            row = _get(session, m.CaseRow, int(case_id))
            if order_id is not None and row.order_id != str(order_id):
                raise CaseMismatch(f"case {case_id} is about order {row.order_id}, not {order_id}")
            if row.closed_at is not None and status not in (None, "closed"):
                raise CaseMismatch(f"case {case_id} is closed; a new request opens a new case")
            changes = {"status": status, "rule": rule, "note": note, "refund_amount": _money(refund_amount)}
            for name, value in changes.items():
                if value is not None:
                    setattr(row, name, value)
            if detail:
                row.detail = {**(row.detail or {}), **detail}
            if close:
                row.status = status or "closed"
                row.closed_at = row.closed_at or self._now()
            session.flush()
            return _to_case(row)

    def get_case(self, case_id: int) -> Optional[Case]:
        return self._first(select(m.CaseRow).where(m.CaseRow.id == int(case_id)), _to_case)

    def cases_for_order(self, order_id: str) -> List[Case]:
        """Every case of the order, oldest first: the history an agent reads (R15)."""
        query = select(m.CaseRow).where(m.CaseRow.order_id == str(order_id)).order_by(m.CaseRow.id)
        return self._all(query, _to_case)

    def open_case_for(self, order_id: str, kind: str) -> Optional[Case]:
        """The newest unclosed case of this kind, so a returning shopper continues it, not a new one."""
        query = (
            select(m.CaseRow)
            .where(m.CaseRow.order_id == str(order_id), m.CaseRow.kind == kind, m.CaseRow.closed_at.is_(None))
            .order_by(m.CaseRow.id.desc())
        )
        return self._first(query, _to_case)

    def record_decision(self, change: CaseChange) -> Recorded:
        """Write one decision (case, refund, promise) in one transaction, at most once.

        The case is the open one of the same order, item and kind (a shopper who comes back
        continues it, R15), else a new one. The same call repeated (same ``decision_key``, or a
        grant whose key is already paid) returns what was written and changes nothing. A grant
        that would refund more than the order's paid total raises ``RefundLimitExceeded`` and
        writes nothing.
        """
        with self._sessions.begin() as session:
            repeated = self._repeated_decision(session, change)
            if repeated is not None:
                refund = self._refund_row(session, change.grant.key) if change.grant else None
                return Recorded(_to_case(repeated), _to_refund(refund) if refund else None, False, True)
            row = self._case_row_for(session, change)
            now = self._now()
            if row is None:
                row = m.CaseRow(order_id=change.order_id, kind=change.kind, item_sku=change.item_sku,
                                opened_at=now, conversation_id=change.conversation_id, detail={})
                session.add(row)
            row.rule, row.status = change.rule, change.status
            row.note = change.note or row.note or ""
            row.detail = {**(row.detail or {}), **change.detail, "decision_key": change.decision_key}
            if change.grant:
                row.refund_amount = _money(change.grant.amount)
            if change.status == "closed":
                row.closed_at = row.closed_at or now
            session.flush()
            refund, created = self._grant(session, row, change) if change.grant else (None, False)
            if change.detail.get("evidence"):  # the photo came: the reminder is kept by itself
                session.execute(
                    update(m.FollowUpRow)
                    .where(m.FollowUpRow.case_id == row.id, m.FollowUpRow.kind == "photo_reminder",
                           m.FollowUpRow.done_at.is_(None))
                    .values(done_at=now)
                )
            if change.promise:
                self._promise(session, row, change)
            session.flush()
            return Recorded(_to_case(row), _to_refund(refund) if refund else None, created, False)

    def grant_on_case(self, case_id: int, grant: Grant, detail: Optional[Dict[str, Any]] = None) -> Recorded:
        """A person's refund on an existing case (open or closed): once per key, never beyond what
        was paid for the order (``RefundLimitExceeded``), with the case noted, in one transaction."""
        with self._sessions.begin() as session:
            row = _get(session, m.CaseRow, int(case_id))
            change = CaseChange(row.order_id, row.kind, row.rule, row.status, row.conversation_id, grant=grant)
            refund, created = self._grant(session, row, change)
            if created:
                row.refund_amount = _money(Decimal(row.refund_amount or 0) + Decimal(grant.amount))
                row.detail = {**(row.detail or {}), **(detail or {})}
            session.flush()
            return Recorded(_to_case(row), _to_refund(refund), created, not created)

    def _repeated_decision(self, session: Session, change: CaseChange) -> Optional[m.CaseRow]:
        """The case an earlier try of this very decision wrote, if any."""
        if change.grant:
            paid = self._refund_row(session, change.grant.key)
            if paid is not None:
                return session.get(m.CaseRow, paid.case_id)
        if not change.decision_key:
            return None
        query = select(m.CaseRow).where(m.CaseRow.order_id == change.order_id, m.CaseRow.kind == change.kind)
        for row in session.execute(query.order_by(m.CaseRow.id.desc())).scalars():
            if (row.detail or {}).get("decision_key") == change.decision_key:
                return row
        return None

    def _case_row_for(self, session: Session, change: CaseChange) -> Optional[m.CaseRow]:
        """The conversation's case if it is about this order and kind and still open, else the
        newest open case of the same order, item and kind, else None (a new case)."""
        if change.case_id:
            row = session.get(m.CaseRow, int(change.case_id))
            if (row is not None and row.closed_at is None and row.order_id == change.order_id
                    and row.kind == change.kind):
                return row
        query = (
            select(m.CaseRow)
            .where(m.CaseRow.order_id == change.order_id, m.CaseRow.kind == change.kind,
                   m.CaseRow.closed_at.is_(None))
            .order_by(m.CaseRow.id.desc())
        )
        if change.item_sku:
            query = query.where(m.CaseRow.item_sku == change.item_sku)
        return session.execute(query.limit(1)).scalars().first()

    @staticmethod
    def _refund_row(session: Session, key: str) -> Optional[m.RefundRow]:
        return session.execute(select(m.RefundRow).where(m.RefundRow.key == key)).scalars().first()

    def _grant(self, session: Session, case: m.CaseRow, change: CaseChange) -> Tuple[m.RefundRow, bool]:
        """The grant's refund row, inserted once; never beyond what was paid for the order."""
        grant = change.grant
        existing = self._refund_row(session, grant.key)
        if existing is not None:
            return existing, False
        order = session.get(m.OrderRow, case.order_id)
        refunded = session.execute(
            select(func.coalesce(func.sum(m.RefundRow.amount), 0))
            .join(m.CaseRow, m.CaseRow.id == m.RefundRow.case_id)
            .where(m.CaseRow.order_id == case.order_id)
        ).scalar_one()
        if _money(Decimal(refunded) + Decimal(grant.amount)) > paid_total(order):
            raise RefundLimitExceeded(
                f"order {case.order_id}: {refunded} refunded, {grant.amount} more exceeds {paid_total(order)}"
            )
        if _money(grant.amount) <= 0:
            raise ValueError("a refund must be a positive amount")
        row = m.RefundRow(case_id=case.id, key=grant.key, amount=_money(grant.amount), created_at=self._now(),
                          state=grant.state, actor=grant.actor)
        try:
            with session.begin_nested():  # a racing process may insert the same key first
                session.add(row)
        except IntegrityError:
            existing = self._refund_row(session, grant.key)
            if existing is None:
                raise
            return existing, False
        return row, True

    def _promise(self, session: Session, case: m.CaseRow, change: CaseChange) -> None:
        """R14: record the promise once per case and kind while it is not kept yet."""
        promise = change.promise
        rows = session.execute(
            select(m.FollowUpRow).where(m.FollowUpRow.case_id == case.id, m.FollowUpRow.kind == promise.kind)
        ).scalars().all()
        if any(r.done_at is None for r in rows):
            return
        row = m.FollowUpRow(case_id=case.id, conversation_id=change.conversation_id, promise=promise.text,
                            due_at=_naive_utc(promise.due_at), kind=promise.kind,
                            key=f"{case.id}:{promise.kind}:{len(rows)}")
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            pass  # the same promise, recorded by a racing try of this decision

    # ---- compensation and refunds ---------------------------------------------------

    def record_offer(
        self,
        case_id: int,
        round: int,
        actor: str,
        amount: Optional[Decimal],
        reason: str,
        outcome: str,
        seq: Optional[int] = None,
    ) -> int:
        """Keep every R9 offer and counter-offer with its reason: the negotiation is auditable.

        ``seq`` is the move's place in the negotiation's history: a retried turn that stores the
        same move again gets the first row back instead of a copy.
        """
        row = m.OfferRow(
            case_id=case_id,
            seq=seq,
            round=round,
            actor=actor,
            amount=_money(amount),
            reason=reason or "",
            outcome=outcome or "",
            at=self._now(),
        )
        try:
            return self._add(row).id
        except IntegrityError:
            if seq is None:
                raise
            query = select(m.OfferRow.id).where(m.OfferRow.case_id == case_id, m.OfferRow.seq == seq)
            with self._sessions() as session:
                found = session.execute(query).scalar_one_or_none()
            if found is None:
                raise
            return found

    def offers_for_case(self, case_id: int) -> List[Offer]:
        return self._all(
            select(m.OfferRow).where(m.OfferRow.case_id == case_id).order_by(m.OfferRow.id), _to_offer
        )

    def create_refund(self, case_id: int, amount: Decimal, key: str) -> Tuple[int, bool]:
        """One refund per ``key``, even when two processes race: returns (refund id, created).

        The unique constraint decides, not a read-then-write check, so a retried action or a
        second action server cannot pay the same deal twice.
        """
        if _money(amount) <= 0:
            raise ValueError("a refund must be a positive amount")
        try:
            row = self._add(
                m.RefundRow(case_id=case_id, key=key, amount=_money(amount), created_at=self._now())
            )
            return row.id, True
        except IntegrityError:
            existing = self._first(select(m.RefundRow).where(m.RefundRow.key == key), _to_refund)
            if existing is None:  # not a duplicate key: e.g. no such case
                raise
            return existing.refund_id, False

    def refunds_for_order(self, order_id: str, item_sku: Optional[str] = None) -> List[Refund]:
        """Every refund granted on the order's cases (those about ``item_sku`` or the whole order)."""
        query = (
            select(m.RefundRow)
            .join(m.CaseRow, m.CaseRow.id == m.RefundRow.case_id)
            .where(m.CaseRow.order_id == str(order_id))
            .order_by(m.RefundRow.id)
        )
        if item_sku is not None:
            query = query.where((m.CaseRow.item_sku == item_sku) | m.CaseRow.item_sku.is_(None))
        return self._all(query, _to_refund)

    def refunds_for_case(self, case_id: int) -> List[Refund]:
        query = select(m.RefundRow).where(m.RefundRow.case_id == case_id).order_by(m.RefundRow.id)
        return self._all(query, _to_refund)

    # ---- evidence -------------------------------------------------------------------

    def add_evidence(
        self,
        case_id: Optional[int],
        path: str,
        content_type: str,
        size: int,
        conversation_id: Optional[str] = None,
    ) -> int:
        """Record an uploaded photo (R8, R10, R16); the file itself stays where ``path`` says."""
        row = m.EvidenceRow(
            case_id=case_id,
            conversation_id=conversation_id,
            path=str(path),
            content_type=content_type,
            size=int(size),
            uploaded_at=self._now(),
        )
        return self._add(row).id

    def evidence_for_conversation(self, conversation_id: str) -> List[Evidence]:
        """Photos uploaded in the conversation, oldest first."""
        query = (
            select(m.EvidenceRow)
            .where(m.EvidenceRow.conversation_id == conversation_id)
            .order_by(m.EvidenceRow.id)
        )
        return self._all(query, _to_evidence)

    def attach_evidence(self, case_id: int, conversation_id: str) -> int:
        """Give the conversation's photos that have no case yet to ``case_id``; returns how many."""
        with self._sessions.begin() as session:
            rows = session.execute(
                select(m.EvidenceRow).where(
                    m.EvidenceRow.conversation_id == conversation_id, m.EvidenceRow.case_id.is_(None)
                )
            ).scalars().all()
            for row in rows:
                row.case_id = int(case_id)
            return len(rows)

    def evidence_for_case(self, case_id: int) -> List[Evidence]:
        query = select(m.EvidenceRow).where(m.EvidenceRow.case_id == case_id).order_by(m.EvidenceRow.id)
        return self._all(query, _to_evidence)

    # ---- promises (R14) -------------------------------------------------------------

    def add_follow_up(
        self, case_id: Optional[int], conversation_id: str, promise: str, due_at: datetime, kind: str = "promise"
    ) -> int:
        """R14: a promise is recorded with its due time, so it can be kept and reported."""
        row = m.FollowUpRow(
            case_id=case_id, conversation_id=conversation_id, promise=promise, due_at=_naive_utc(due_at), kind=kind
        )
        return self._add(row).id

    def open_follow_ups(self) -> List[FollowUp]:
        """Every promise not kept yet, soonest due first (overdue ones lead)."""
        query = select(m.FollowUpRow).where(m.FollowUpRow.done_at.is_(None))
        return self._all(query.order_by(m.FollowUpRow.due_at, m.FollowUpRow.id), _to_follow_up)

    def take_follow_up(self, follow_up_id: int) -> bool:
        """Claim a due promise for keeping: True for exactly one caller, whatever the processes.

        A conditional UPDATE decides, so two runners (or two replicas) never report it twice.
        """
        with self._sessions.begin() as session:
            result = session.execute(
                update(m.FollowUpRow)
                .where(m.FollowUpRow.id == int(follow_up_id), m.FollowUpRow.reported_at.is_(None),
                       m.FollowUpRow.done_at.is_(None))
                .values(reported_at=self._now())
            )
            return result.rowcount == 1

    def due_follow_ups(self, now: Optional[datetime] = None) -> List[FollowUp]:
        """Promises not yet kept whose time has come, most overdue first."""
        moment = _naive_utc(now) if now else self._now()
        query = (
            select(m.FollowUpRow)
            .where(m.FollowUpRow.done_at.is_(None), m.FollowUpRow.due_at <= moment)
            .order_by(m.FollowUpRow.due_at, m.FollowUpRow.id)
        )
        return self._all(query, _to_follow_up)

    def mark_follow_up(self, follow_up_id: int, *, done: bool = True, reported: bool = False) -> FollowUp:
        """Stamp a promise as kept and/or reported back to the shopper (each stamped once)."""
        with self._sessions.begin() as session:
            row = _get(session, m.FollowUpRow, int(follow_up_id))
            if done:
                row.done_at = row.done_at or self._now()
            if reported:
                row.reported_at = row.reported_at or self._now()
            session.flush()
            return _to_follow_up(row)

    def release_follow_up(self, follow_up_id: int) -> None:
        """Undo ``take_follow_up`` when keeping it failed, so the next pass tries again."""
        with self._sessions.begin() as session:
            session.execute(
                update(m.FollowUpRow)
                .where(m.FollowUpRow.id == int(follow_up_id), m.FollowUpRow.done_at.is_(None))
                .values(reported_at=None)
            )

    def keep_follow_up(self, follow_up_id: int, message: Optional[str]) -> FollowUp:
        """The promise is kept: stamp it done, and note on its case what the shopper was told."""
        with self._sessions.begin() as session:
            row = _get(session, m.FollowUpRow, int(follow_up_id))
            now = self._now()
            row.done_at = row.done_at or now
            row.reported_at = row.reported_at or now
            case = session.get(m.CaseRow, row.case_id) if row.case_id else None
            if case is not None:
                kept = list((case.detail or {}).get("kept_promises", []))
                kept.append({"at": now.isoformat(), "kind": row.kind, "message": message or ""})
                case.detail = {**(case.detail or {}), "kept_promises": kept}
            session.flush()
            return _to_follow_up(row)

    def follow_ups_for_case(self, case_id: int) -> List[FollowUp]:
        query = select(m.FollowUpRow).where(m.FollowUpRow.case_id == case_id).order_by(m.FollowUpRow.id)
        return self._all(query, _to_follow_up)

    # ---- handoffs and ratings -------------------------------------------------------

    def record_handoff(self, conversation_id: str, case_id: Optional[int], reason: str, summary: str) -> int:
        """R15: the handover with its summary, so the agent reads the story instead of asking again."""
        row = m.HandoffRow(
            conversation_id=conversation_id,
            case_id=case_id,
            reason=reason,
            summary=summary,
            status="waiting",
            created_at=self._now(),
        )
        return self._add(row).id

    def handoffs(
        self, conversation_id: Optional[str] = None, status: Optional[str] = None
    ) -> List[HandoffRecord]:
        """Handovers, oldest first, optionally for one conversation or in one status."""
        query = select(m.HandoffRow).order_by(m.HandoffRow.id)
        if conversation_id:
            query = query.where(m.HandoffRow.conversation_id == conversation_id)
        if status:
            query = query.where(m.HandoffRow.status == status)
        return self._all(query, _to_handoff)

    def save_rating(self, conversation_id: str, score: int, comment: str = "") -> int:
        """The shopper's 1-5 satisfaction score (checked here and by the database)."""
        if not 1 <= int(score) <= 5:
            raise ValueError("score must be between 1 and 5")
        row = m.RatingRow(
            conversation_id=conversation_id,
            score=int(score),
            comment=(comment or "")[:2000],
            created_at=self._now(),
        )
        return self._add(row).id

    # ---- shared with the console's storage (bot/store/console.py) ---------------------

    @property
    def session_factory(self) -> sessionmaker:
        """The sessions this repository uses, so ``ConsoleRepository`` works on the same database."""
        return self._sessions
    # ---- ownership proof and the shop's own customers (issue #11) -------------------

    def record_proof_failure(self, order_id: str, conversation_id: str, client: Optional[str] = None) -> None:
        """One wrong proof for ``order_id`` (which need not exist: the count must not tell)."""
        row = m.ProofFailureRow(
            order_id=_digits(order_id)[:32],
            conversation_id=str(conversation_id)[:128],
            client=(client or None) and str(client)[:64],
            at=self._now(),
        )
        self._add(row)

    def proof_failures_since(self, order_id: str, since: datetime) -> List[datetime]:
        """When the recent wrong proofs for ``order_id`` were made, oldest first."""
        query = (
            select(m.ProofFailureRow.at)
            .where(m.ProofFailureRow.order_id == _digits(order_id)[:32], m.ProofFailureRow.at >= since)
            .order_by(m.ProofFailureRow.at)
        )
        with self._sessions() as session:
            return list(session.execute(query).scalars())

    def clear_proof_failures(self, order_id: str) -> None:
        """A right proof starts the count again."""
        from sqlalchemy import delete

        with self._sessions.begin() as session:
            session.execute(
                delete(m.ProofFailureRow).where(m.ProofFailureRow.order_id == _digits(order_id)[:32])
            )

    def orders_for_customer(self, customer_id: str, limit: int = 5) -> List[Order]:
        """A signed-in customer's most recent orders (the shop vouched for who they are)."""
        if not str(customer_id).isdigit():
            return []
        query = (
            select(m.OrderRow)
            .options(*_ORDER_LOAD)
            .where(m.OrderRow.customer_id == int(customer_id))
            .order_by(m.OrderRow.paid_at.desc(), m.OrderRow.order_id.desc())
            .limit(limit)
        )
        return self._all(query, _to_order)

    def customer_owns(self, customer_id: str, order_id: str) -> bool:
        """True when the signed-in customer ``customer_id`` placed ``order_id``."""
        if not str(customer_id).isdigit():
            return False
        query = select(m.OrderRow.customer_id).where(m.OrderRow.order_id == str(order_id).strip())
        with self._sessions() as session:
            owner = session.execute(query).scalar_one_or_none()
        return owner is not None and owner == int(customer_id)

    def proof_failures_by(self, since: datetime, conversation_id: Optional[str] = None, client: Optional[str] = None) -> int:
        """Wrong proofs since ``since`` from one conversation or one client address, whatever the order."""
        from sqlalchemy import func

        query = select(func.count(m.ProofFailureRow.id)).where(m.ProofFailureRow.at >= since)
        if conversation_id is not None:
            query = query.where(m.ProofFailureRow.conversation_id == str(conversation_id)[:128])
        if client is not None:
            query = query.where(m.ProofFailureRow.client == str(client)[:64])
        with self._sessions() as session:
            return int(session.execute(query).scalar_one())
