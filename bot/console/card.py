"""The context card an agent reads before saying anything (R15: the shopper never repeats).

Plain Python over the repositories and the tracker's events as dicts: the verified order and
its state, items, the case (problem kind, rule applied, its reason), offers, refunds, photos,
promises, why it was handed off, and the whole transcript with bot, shopper, agent, internal
notes and system lines told apart, in time order.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any, Dict, Iterable, List, Optional
from zoneinfo import ZoneInfo

from bot.store.console import ConsoleMessage, ConsoleRepository, HandoffState
from bot.store.repository import OrderRepository


def _epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=timezone.utc).timestamp()


def _shanghai(moment: datetime) -> str:
    return moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%m-%d %H:%M")


def _money(value: Any) -> Optional[str]:
    return None if value is None else f"{value:.2f}"


def transcript(events: Iterable[Dict[str, Any]], human: Iterable[ConsoleMessage]) -> List[Dict[str, Any]]:
    """Tracker lines (shopper, bot) and the human phase (agent, note, system), oldest first."""
    lines: List[Dict[str, Any]] = []
    for event in events:
        kind, at = event.get("event"), float(event.get("timestamp") or 0)
        if kind == "user" and event.get("text"):
            metadata = event.get("metadata") or {}
            photo = metadata.get("photo") if isinstance(metadata.get("photo"), dict) else None
            text = "[照片]" if photo else str(metadata.get("display") or event["text"])
            lines.append({"sender": "user", "text": text, "at": at, "photo": (photo or {}).get("url")})
        elif kind == "bot" and event.get("text"):
            lines.append({"sender": "bot", "text": str(event["text"]), "at": at})
    for message in human:
        lines.append({"sender": message.kind, "author": message.author, "text": message.text, "at": _epoch(message.at)})
    lines.sort(key=lambda line: line["at"])
    return lines


def photo_url(path: str) -> str:
    """The widget serves evidence at /widget/uploads/<conversation>/<file>."""
    parts = PurePath(path)
    return f"/widget/uploads/{parts.parent.name}/{parts.name}"


def build(
    state: HandoffState,
    slots: Dict[str, Any],
    events: List[Dict[str, Any]],
    orders: OrderRepository,
    console: ConsoleRepository,
    now: datetime,
) -> Dict[str, Any]:
    conversation = state.conversation_id
    card: Dict[str, Any] = {
        "conversation_id": conversation,
        "state": state.state,
        "reason": state.reason,
        "urgent": state.urgent,
        "agent": state.agent,
        "channel": state.channel,
        "waiting_seconds": state.waiting_seconds(now) if state.state == "queued" else 0,
        "summary": console.summary_of(state.handoff_id).get("summary", ""),
    }
    order_id = slots.get("verified_order")
    card["order"] = None
    if order_id:
        order = orders.get_order(str(order_id))
        if order is not None:
            card["order"] = {
                "order_id": order.order_id,
                "verified": True,
                "customer": order.customer_name,
                "paid_at": order.paid_at.isoformat(timespec="minutes"),
                "shipment": {
                    "state": order.shipment.state.value,
                    "carrier": order.shipment.carrier,
                    "tracking_no": order.shipment.tracking_no,
                    "return_tracking_no": order.shipment.return_tracking_no,
                },
                "items": [
                    {"name": i.name, "sku": i.sku, "price": _money(i.price), "quantity": i.quantity,
                     "color": i.color, "size": i.size}
                    for i in order.items
                ],
            }
    elif slots.get("order_id"):
        card["order"] = {"order_id": str(slots["order_id"]), "verified": False, "items": []}
    case_id = state.case_id or (int(slots["case_id"]) if slots.get("case_id") else None)
    card["case"] = None
    if case_id:
        case = orders.get_case(case_id)
        if case is not None:
            card["case"] = {
                "case_id": case.case_id, "kind": case.kind, "rule": case.rule, "status": case.status,
                "note": case.note, "reason": str(case.detail.get("reason") or ""),
                "refund_amount": _money(case.refund_amount),
            }
            card["offers"] = [
                {"round": o.round, "actor": o.actor, "amount": _money(o.amount), "reason": o.reason, "outcome": o.outcome}
                for o in orders.offers_for_case(case_id)
            ]
            card["refunds"] = [{"amount": _money(r.amount), "key": r.key} for r in orders.refunds_for_case(case_id)]
            card["photos"] = [photo_url(e.path) for e in orders.evidence_for_case(case_id)]
    card.setdefault("offers", [])
    card.setdefault("refunds", [])
    lines = transcript(events, console.messages(conversation))
    card.setdefault("photos", [line["photo"] for line in lines if line.get("photo")])
    card["promises"] = [
        {"id": f.id, "promise": f.promise, "due_at": f.due_at.isoformat(timespec="minutes") + "Z",
         "due_local": _shanghai(f.due_at), "overdue": f.due_at < now}
        for f in console.open_follow_ups(conversation)
    ]
    card["transcript"] = lines
    return card
