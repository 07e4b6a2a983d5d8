"""Seven-day no-reason return or exchange of received goods (R6, with R5's tracking step).

The window runs from the signed-for time and is closed at its end: within
``no_reason_days × 24 h`` of ``delivered_at``, so day 7 to the minute is inside and one
minute later is outside. Special goods (fresh, virtual, custom) are excluded from
return-and-refund; refund-only stays open to them. The address given is the return
address of the warehouse that shipped the order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Tuple

from bot.domain import Item, SpecialGoods
from bot.policy.context import SPECIAL_NAMES, Context
from bot.policy.model import Action, Decision
from bot.policy.timing import days, say_time, since, within, yuan


def received_at(ctx: Context) -> datetime:
    """When the shopper got the parcel: the signed-for time, else its last scan, else now."""
    ship = ctx.ship
    if ship.delivered_at is not None:
        return ship.delivered_at
    if ship.events:
        return max(e.at for e in ship.events)
    return ctx.now


def no_reason(ctx: Context, exchange: bool) -> Decision:
    """R6: special goods first (excluded whatever the date), then the window, then approve."""
    returnable, special = _split_special(ctx.items)
    start = received_at(ctx)
    deadline = start + timedelta(days=ctx.settings.returns.no_reason_days)
    facts = {
        "delivered_at": start,
        "days_since_delivery": days(since(start, ctx.now)),
        "return_deadline": deadline,
    }
    if not returnable:
        return _deny_special(ctx, special, exchange, facts)
    if not within(start, ctx.now, timedelta(days=ctx.settings.returns.no_reason_days)):
        return _window_passed(ctx, start, deadline, facts)
    return _approve(ctx, returnable, special, exchange, deadline, facts)


def _split_special(items: Tuple[Item, ...]) -> Tuple[Tuple[Item, ...], Tuple[Item, ...]]:
    ordinary = tuple(i for i in items if i.special is SpecialGoods.NONE)
    return ordinary, tuple(i for i in items if i.special is not SpecialGoods.NONE)


def _kinds(items: Tuple[Item, ...]) -> str:
    return "、".join(dict.fromkeys(SPECIAL_NAMES[i.special] for i in items))


def _deny_special(ctx: Context, special: Tuple[Item, ...], exchange: bool, facts: dict) -> Decision:
    """R6 + R16: a reason, the refund-only route that stays open, and a request for photos."""
    what = "换货" if exchange else "退货"
    names = "、".join(i.name for i in special)
    reason = (
        f"很抱歉，因为{names}属于{_kinds(special)}，签收后没法再次销售，按平台规则不支持七天无理由{what}。"
        "如果收到时有质量问题（比如坏果、破损、和描述不符），麻烦拍照发给我，我们可以为您办理仅退款或补发。"
    )
    facts = {**facts, "special_goods": [i.special.value for i in special]}
    return ctx.decision(Action.DENY_RETURN_SPECIAL_GOODS, "R6", reason, facts=facts, needs_evidence=True)


def _window_passed(ctx: Context, start: datetime, deadline: datetime, facts: dict) -> Decision:
    """R6 + R16: say when the window closed, and keep the quality/warranty route open."""
    days_ = ctx.settings.returns.no_reason_days
    warranty = any(ctx.terms_for(i) for i in ctx.items)
    extra = "这件商品还在三包保修范围内的话，也可以按保修为您处理。" if warranty else ""
    reason = (
        f"很抱歉，因为七天无理由退货从签收时间算起，您的包裹在{say_time(start, ctx.settings)}签收，"
        f"{days_} 天的期限到{say_time(deadline, ctx.settings)}已经结束，所以没法再走无理由退货了。"
        f"如果商品有质量问题，麻烦拍照发给我，质量问题不受这 {days_} 天的限制，我们照样为您处理。{extra}"
    )
    return ctx.decision(Action.RETURN_WINDOW_PASSED, "R6", reason, facts=facts, needs_evidence=True)


def _approve(
    ctx: Context,
    returnable: Tuple[Item, ...],
    special: Tuple[Item, ...],
    exchange: bool,
    deadline: datetime,
    facts: dict,
) -> Decision:
    """R6 + R5: approve, warn about resale, give the warehouse address, ask for the tracking number."""
    warehouse = ctx.warehouse
    address = warehouse.return_address
    days_ = ctx.settings.returns.no_reason_days
    left_out = (
        f"（{'、'.join(i.name for i in special)}属于{_kinds(special)}，不在无理由退换范围内。）"
        if special
        else ""
    )
    care = "寄回前请保持商品、吊牌和包装完好，因为影响二次销售的话就没法全额处理了。"
    facts = {**facts, "return_address": address, "warehouse": warehouse.name}
    if exchange:
        reason = (
            f"您的包裹还在 {days_} 天无理由期内（到{say_time(deadline, ctx.settings)}），可以为您换货{left_out}。"
            f"{care}请寄到下面的{warehouse.name}地址，寄出后把快递单号发给我，仓库收到后就给您发出新的。"
        )
        return ctx.decision(
            Action.APPROVE_EXCHANGE_ASK_TRACKING, "R6", reason, facts=facts, return_address=address
        )
    refund = ctx.goods_value(returnable)
    reason = (
        f"您的包裹还在 {days_} 天无理由退货期内（到{say_time(deadline, ctx.settings)}），可以为您退货退款{left_out}。"
        f"{care}请寄到下面的{warehouse.name}地址，寄出后把退货快递单号发给我，仓库验收后退您商品金额 {yuan(refund)} 元。"
    )
    facts = {**facts, "refund_amount": refund}
    return ctx.decision(
        Action.APPROVE_RETURN_ASK_TRACKING,
        "R6",
        reason,
        facts=facts,
        refund_amount=refund,
        return_address=address,
    )
