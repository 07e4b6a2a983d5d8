"""May the shop offer a partial compensation for this item? (R9, R10, R16)

Asked for directly ("不退了，给点补偿吧") or reached through a colour / flaw / size / service
complaint, a compensation is only negotiated when every condition holds:

1. the problem is one compensation suits: a colour difference, a small flaw, a size slightly
   off, a service fault (a broken product is repaired, exchanged or returned instead: R8, R13;
   a wrong or missing item is exchanged or re-shipped; a late or lost parcel follows R11);
2. for goods, the parcel was received and it is still within ``returns.compensation_days`` of
   receipt (the after-sales window);
3. the evidence the shop asks for is there (``returns.compensation_evidence``: R10 daylight
   photo, R16 ask rather than refuse);
4. the item was not compensated or refunded before (one compensation per order item; the
   database enforces it too, through the refund key).

Otherwise the shopper hears why, and what is possible instead.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Optional, Sequence

from bot.domain import Item, Order, Refund, ShipState
from bot.policy.context import PERFORMANCE_FAULTS, Context
from bot.policy.model import Action, Decision, Request
from bot.policy.returns import received_at
from bot.policy.timing import days, say_date, since, within, yuan
from bot.settings import Settings

# problem the shopper raised -> the kind of compensation bot.bargain plans for
KINDS = {
    "color_mismatch": "color_mismatch",
    "quality_issue": "small_flaw",
    "size_mismatch": "size_slightly_off",
    "complaint": "service_fault",
}
GOODS_KINDS = frozenset({"color_mismatch", "small_flaw", "size_slightly_off"})


def compensation_item(order: Order, item_sku: Optional[str] = None) -> Item:
    """The item a compensation is about: the one named, else the dearest (what bargain plans on)."""
    items = [i for i in order.items if item_sku is None or i.sku == item_sku] or list(order.items)
    return max(items, key=lambda i: i.price)


def compensation(
    order: Order,
    problem: Optional[str],
    now: datetime,
    settings: Settings,
    *,
    item_sku: Optional[str] = None,
    has_evidence: bool = False,
    fault: Optional[str] = None,
    paid: Sequence[Refund] = (),
) -> Decision:
    """OPEN_NEGOTIATION when R9 allows a compensation for this item now, else why not and what instead.

    Args:
        problem: the request the compensation is for (``bot.requests`` values), None if unknown.
        paid: refunds already granted on this item or on the whole order.
    """
    item = compensation_item(order, item_sku)
    ctx = Context.build(order, Request.QUALITY_ISSUE, now, settings, item_sku=item.sku, has_evidence=has_evidence)
    kind = KINDS.get(problem or "")
    if problem is None:
        return ctx.decision(Action.ASK_PROBLEM, "R9", _ASK_PROBLEM)
    if kind is None or (kind == "small_flaw" and fault in PERFORMANCE_FAULTS):
        return ctx.decision(Action.NO_COMPENSATION, "R9", _not_suitable(problem, fault))
    facts = {"compensation_kind": kind, "item_sku": item.sku, "item_name": item.name}
    if paid:
        return _paid_before(ctx, paid, facts)
    if kind in GOODS_KINDS:
        refused = _goods_refusal(ctx, kind, facts)
        if refused is not None:
            return refused
    return ctx.decision(Action.OPEN_NEGOTIATION, "R9", "", facts=facts)


def _goods_refusal(ctx: Context, kind: str, facts: dict) -> Optional[Decision]:
    """Goods must be received, within the window, and shown on a photo where the shop asks for one."""
    if ctx.state is not ShipState.DELIVERED:
        return ctx.decision(Action.NO_COMPENSATION, "R9", _NOT_RECEIVED, facts=facts)
    start = received_at(ctx)
    window = timedelta(days=ctx.settings.returns.compensation_days)
    facts = {**facts, "days_since_delivery": days(since(start, ctx.now))}
    if not within(start, ctx.now, window):
        reason = (
            f"因为您是 {say_date(start, ctx.settings)} 签收的，已经超过签收后 {ctx.settings.returns.compensation_days} 天的售后期，"
            "我这边没办法直接给补偿，真的抱歉。如果商品影响使用，我可以帮您转给售后同事看看还能怎么处理。"
        )
        return ctx.decision(Action.NO_COMPENSATION, "R9", reason, facts=facts)
    if kind in ctx.settings.returns.compensation_evidence and not ctx.has_evidence:
        rule = "R10" if kind == "color_mismatch" else "R16"
        return replace(ctx.ask_evidence(rule, _EVIDENCE[kind]), facts=facts)
    return None


def _paid_before(ctx: Context, paid: Sequence[Refund], facts: dict) -> Decision:
    first = paid[0]
    total = sum((r.amount for r in paid), paid[0].amount * 0)
    reason = (
        f"我查了一下，这笔订单在 {say_date(first.created_at, ctx.settings)} 已经为您办理过 {yuan(total)} 元的退款或补偿，"
        "因为同一件商品不能重复补偿，这次没办法再补了，还请您理解。如果又出现了新的问题，可以跟我说说具体情况，或者我帮您转人工核实。"
    )
    return ctx.decision(Action.NO_COMPENSATION, "R9", reason, facts={**facts, "paid_before": str(total)})


def _not_suitable(problem: str, fault: Optional[str]) -> str:
    if problem == "quality_issue" or fault in PERFORMANCE_FAULTS:
        return ("因为商品不能正常使用的话，补点钱并不能真正解决问题，按规定应该给您换新、维修或退货，运费由我们承担。"
                "您跟我说一下具体情况，我按三包和质量问题的规则帮您处理。")
    if problem == "wrong_item":
        return "因为发错或少发是我们的责任，应该直接给您换成对的商品或者补发，运费我们承担，不需要您用补偿来凑合。"
    if problem in ("delay", "lost", "status"):
        return "因为这是物流的问题，我会先帮您催快递、查清包裹在哪；真的丢件会马上补发或退款，不用您等理赔。"
    return "因为这个情况不太适合用补偿来处理，您可以选择退货或换货，或者告诉我具体问题，我帮您看看最合适的办法。"


_ASK_PROBLEM = (
    "想先了解一下，商品是哪里让您不满意呢？比如有色差、有小瑕疵、尺码不太合适，或者是服务上的问题。"
    "您说说具体情况，我按规定看看能怎么补偿您。"
)
_NOT_RECEIVED = "因为您的包裹还没有签收，补偿要等收到商品、确认问题后才能谈。收到后如果有色差或瑕疵，随时来找我。"
_EVIDENCE = {
    "color_mismatch": "为了给您合理的补偿，麻烦先在白天自然光下拍一张商品的照片发给我，我对照一下色差的程度。",
    "small_flaw": "为了给您合理的补偿，麻烦先拍一下瑕疵的位置（近景一张、整体一张）发给我，我确认一下程度。",
    "size_slightly_off": "为了给您合理的补偿，麻烦把商品平铺量一下尺寸拍照发给我，我和尺码表对照一下差了多少。",
}
