"""Orders in words and cards: what the shopper is shown once the order is theirs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Sequence

from bot.domain import FollowUp, Order, ShipState
from bot.policy.timing import say_time
from bot.settings import Settings

STATE_NAMES = {
    ShipState.NOT_SHIPPED: "待发货",
    ShipState.LABEL_PRINTED: "已打单，待揽收",
    ShipState.IN_TRANSIT: "运输中",
    ShipState.DELIVERED: "已签收",
    ShipState.REFUSED: "已拒收，退回中",
    ShipState.LOST: "快递丢失",
}


def ago(then: datetime, now: datetime) -> str:
    """How long ago, the way people say it: 刚刚 / 3 小时前 / 2 天前."""
    seconds = max(0, (now - then).total_seconds())
    if seconds < 3600:
        return "刚刚" if seconds < 600 else f"{int(seconds // 60)} 分钟前"
    if seconds < 86400:
        return f"{int(seconds // 3600)} 小时前"
    return f"{int(seconds // 86400)} 天前"


def item_names(order: Order) -> str:
    names = [i.name for i in order.items]
    return "、".join(names[:3]) + (" 等" if len(names) > 3 else "")


def describe_status(order: Order, now: datetime) -> str:
    """One or two sentences on where the order is, from the courier's latest scan."""
    ship = order.shipment
    what = f"您的订单（{item_names(order)}）"
    if ship.state == ShipState.NOT_SHIPPED:
        return f"{what}已付款，仓库正在备货，还没有交给快递，发出后在订单里就能查到物流。"
    if ship.state == ShipState.LABEL_PRINTED:
        since = ago(ship.label_printed_at, now) if ship.label_printed_at else "之前"
        return f"{what}{since}已经打好面单，目前还在等{ship.carrier}上门揽收，暂时还没有揽收记录。"
    latest = ship.events[-1] if ship.events else None
    scan = f"最新物流：{latest.location}{latest.description}（{ago(latest.at, now)}）。" if latest else ""
    if ship.state == ShipState.IN_TRANSIT:
        return f"{what}由{ship.carrier}运输中（运单号 {ship.tracking_no}）。{scan}"
    if ship.state == ShipState.DELIVERED:
        when = ago(ship.delivered_at, now) if ship.delivered_at else ""
        return f"{what}显示已于{when}签收（{ship.carrier} {ship.tracking_no}）。{scan}"
    if ship.state == ShipState.REFUSED:
        return f"{what}已拒收，包裹正在退回仓库。{scan}"
    return f"{what}的包裹被快递确认丢失，我们会为您优先处理。"


def order_card(order: Order) -> Dict[str, Any]:
    """A card the web widget renders: items, prices, state. No phone, no address."""
    return {
        "type": "order_card",
        "order_id": order.order_id,
        "state": STATE_NAMES.get(order.shipment.state, str(order.shipment.state)),
        "items": [
            {"name": i.name, "price": float(i.price), "quantity": i.quantity,
             "color": i.color, "size": i.size}
            for i in order.items
        ],
        "total": float(order.total),
        "carrier": order.shipment.carrier,
        "tracking_no": order.shipment.tracking_no,
    }


_PROMISED = {  # what an open promise (R14) adds to "where is my order?"
    "reship_tracking": "补发已经为您安排了，新的运单号出来后我第一时间发给您（{due} 前）。",
    "courier_news": "我们正在催快递，{due} 前会把进展告诉您。",
    "refund_on_return": "退货寄回仓库验收后，就给您退款。",
}


def promises_in_words(follow_ups: Sequence[FollowUp], settings: Settings) -> str:
    """The shop's open promises on this order, in words, each kind once (R14: told, not forgotten)."""
    said: Dict[str, str] = {}
    for f in sorted(follow_ups, key=lambda f: f.due_at):
        if f.kind in _PROMISED and f.kind not in said:
            said[f.kind] = _PROMISED[f.kind].format(due=say_time(f.due_at, settings))
    return "".join(said.values())
