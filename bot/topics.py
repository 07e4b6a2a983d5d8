"""Questions about an order that are not after-sales cases: invoices, a new address or delivery
time, price protection, installation, where a refund is (issue #13: real shoppers ask them all day).

The assistant cannot issue an invoice, change an address or a price, or book a technician: the
shop's people can. So once the order is proven it says what it can see on *this* order (is it
shipped? delivered? which refunds were paid?), what the shopper can do themselves, and offers a
person for the rest; an address change before the parcel leaves is urgent, so it goes straight
to a person. It never promises what the shop has not decided (R14).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Dict, List, Optional, Sequence, Tuple

from bot.describe import ago
from bot.domain import Case, Order, Refund, ShipState
from bot.policy.timing import yuan

# intent (the real-data intents of data/real/README.md) -> topic, beside bot.requests.INTENT_REQUESTS
TOPIC_REQUESTS: Dict[str, str] = {
    "invoice": "invoice",
    "change_address": "address",
    "change_delivery_time": "delivery_time",
    "price_protection": "price_protection",
    "installation": "installation",
    "refund_status": "refund_status",
}
TOPICS = frozenset(TOPIC_REQUESTS.values())
# what each topic is, for the person who takes over
TOPIC_NAMES = {
    "invoice": "发票", "address": "修改收货地址", "delivery_time": "修改送货时间",
    "price_protection": "价保/补差价", "installation": "预约安装", "refund_status": "退款进度",
}
HUMAN = ("转人工客服", "ask_human")
NOT_LEFT = (ShipState.NOT_SHIPPED, ShipState.LABEL_PRINTED)  # no pickup scan yet (R1)


@dataclass(frozen=True)
class TopicAnswer:
    text: str
    buttons: Sequence[Tuple[str, str]] = field(default_factory=tuple)
    handoff: bool = False  # a person must act now: the conversation goes to the queue


def _tail(order: Order) -> str:
    return f"尾号 {order.order_id[-4:]} 的这笔订单"


def answer(topic: str, order: Order, now: datetime) -> TopicAnswer:
    """What to tell the shopper about ``topic`` for this proven order (a refund's progress: ``refund_status``)."""
    state = order.shipment.state
    tail = _tail(order)
    if topic == "invoice":
        if state is ShipState.DELIVERED:
            text = (f"{tail}已经签收，电子发票可以在订单详情里查看和下载。要补开、改抬头或税号、换专票的话，"
                    "点下面转人工，开票的同事核对后处理，刚才的对话会一起带过去。")
        else:
            text = (f"{tail}还没签收，电子发票一般在订单完成后开出，到时在订单详情里就能下载。"
                    "开票信息要提前改的话，点下面转人工，开票的同事会核对处理。")
        return TopicAnswer(text, (HUMAN,))
    if topic == "address":
        if state in NOT_LEFT:
            return TopicAnswer(f"{tail}还没交给快递，地址还来得及改。改地址要同事在系统里操作，我现在就把这单转给人工，"
                               "您把新地址告诉同事就行，之前聊的内容不用再说一遍。", handoff=True)
        if state is ShipState.IN_TRANSIT:
            return TopicAnswer(f"{tail}已经由{order.shipment.carrier}运输中（运单号 {order.shipment.tracking_no}），"
                               "这时改地址要请快递改派，不一定都能成功。需要的话点转人工，同事帮您联系快递试试。", (HUMAN,))
        return TopicAnswer(f"{tail}{_where(order, now)}，地址已经改不了了。如果包裹不是您本人收的或者没收到，"
                           "跟我说一声，我帮您查。", (HUMAN,))
    if topic == "delivery_time":
        if state in NOT_LEFT:
            return TopicAnswer(f"{tail}还没发货。发出后在订单里能看到运单号，派送前可以直接联系快递员约时间，"
                               "或者请他放快递柜、驿站。需要在发货前备注的话，可以转人工。", (HUMAN,))
        if state is ShipState.IN_TRANSIT:
            return TopicAnswer(f"{tail}由{order.shipment.carrier}运输中（运单号 {order.shipment.tracking_no}）。"
                               "派送前联系快递员就能改送货时间，或者请他放快递柜、驿站。")
        return TopicAnswer(f"{tail}{_where(order, now)}。如果其实没有收到包裹，告诉我，我马上帮您查。")
    if topic == "price_protection":
        return TopicAnswer(f"{tail}能不能补差价，要核对商品的价保规则、期限和降价记录，我这边没法改价格。"
                           "点下面转人工，同事核对后告诉您结果，刚才的对话会一起带过去。", (HUMAN,))
    if topic == "installation":
        if state is ShipState.DELIVERED:
            return TopicAnswer(f"{tail}已经签收。包含安装服务的商品，可以在订单详情的服务单里预约或查看安装码；"
                               "如果找不到或者一直没人联系您，点下面转人工，同事帮您联系安装。", (HUMAN,))
        return TopicAnswer(f"{tail}还没签收。安装一般在签收以后预约，到时可以在订单详情的服务单里预约；"
                           "有特别的要求也可以转人工先说明。", (HUMAN,))
    raise ValueError(f"not a topic: {topic}")


def _where(order: Order, now: datetime) -> str:
    ship = order.shipment
    if ship.state is ShipState.DELIVERED:
        return f"已经签收（{ago(ship.delivered_at, now)}）" if ship.delivered_at else "已经签收"
    if ship.state is ShipState.REFUSED:
        return "已经拒收，正在退回仓库"
    return "的包裹被快递确认丢失"


def refund_status(order: Order, now: datetime, refunds: Sequence[Refund], cases: Sequence[Case],
                  deadline_hours: int) -> TopicAnswer:
    """Where this order's refund is, from the shop's own records: refunds paid, refunds waiting
    for the return, open cases; none: the platform's review and the shop's deadline (R7)."""
    tail = _tail(order)
    paid = [r for r in refunds if r.state == "approved"]
    waiting = [r for r in refunds if r.state == "awaiting_return"]
    parts: List[str] = []
    if paid:
        total = sum((r.amount for r in paid), Decimal("0"))
        when = ago(max(r.created_at for r in paid), now)
        parts.append(f"{tail}已经退款 {yuan(total)} 元（{when}办理），按原支付方式退回，到账时间以支付渠道为准，"
                     "银行卡一般要几个工作日。")
    if waiting:
        total = sum((r.amount for r in waiting), Decimal("0"))
        parts.append(f"{'另有' if paid else tail + '有'} {yuan(total)} 元退款等退货寄回仓库、验收后发放。")
    returning = [c for c in cases if c.status == "waiting_return"]
    if returning and not waiting:
        parts.append(f"{tail}的退货我们在等仓库签收，签收后就办理退款。")
    if parts:
        return TopicAnswer("".join(parts))
    open_cases = [c for c in cases if c.status not in ("closed",)]
    if any(c.status == "waiting_evidence" for c in open_cases):
        return TopicAnswer(f"{tail}还没有办理退款：售后还在等您的照片，收到照片后才能给出处理方案，"
                           "需要退款的话会在方案里说明。")
    if open_cases:
        return TopicAnswer(f"{tail}的售后还在处理中，还没有办理退款。想知道现在卡在哪一步，可以点转人工，同事帮您看。",
                           (HUMAN,))
    return TopicAnswer(f"我这边查不到{tail}的退款记录。如果您是在平台上申请的退款，可能还在审核中"
                       f"（商家会在 {deadline_hours} 小时内处理）；想让同事帮您跟进的话，点下面转人工。", (HUMAN,))  # R7


def topic_for_intent(intent: Optional[str]) -> Optional[str]:
    return TOPIC_REQUESTS.get(intent or "")
