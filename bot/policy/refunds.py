"""Money back before the goods arrive (R1, R2, R3, R5, R12) and refund-only after receipt.

"Shipped" means the courier's pickup scan (R1). Before it, the shopper is asked whether
they still want the item, and the answer decides: refund at once, or ship and ask them
to withdraw. After it, the parcel is recalled or refused first (R2). Only a shopper's
own cancellation of a paid-shipping order may cost them the shop's contract shipping
rate (R12); free-shipping orders never do (R3).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Optional, Tuple

from bot.domain import ShipState
from bot.policy.context import Context
from bot.policy.logistics import label_wait, news_hours
from bot.policy.model import Action, Decision
from bot.policy.timing import hours, yuan


def before_pickup(ctx: Context, wants: Optional[bool]) -> Decision:
    """R1 (R4 once the label has waited too long): ask first, never ship without asking."""
    alert_facts, pending = _pickup_wait(ctx)
    rule = "R4" if alert_facts else "R1"
    why = pending or "因为您的订单还没有揽件（以快递揽件扫描为准），"
    total = ctx.order.total
    facts = {**alert_facts, "refund_amount": total}
    if wants is None:
        reason = (
            why + "想先跟您确认一下：这件商品您还需要吗？不需要的话马上为您退款；还需要的话我们尽快为您发出。"
        )
        return ctx.decision(Action.ASK_STILL_WANTS, rule, reason, facts=facts)
    if not wants:
        stop = "我们会取消面单、拦下包裹，" if ctx.state is ShipState.LABEL_PRINTED else ""
        reason = why + f"现在申请仅退款可以马上为您办理，{stop}{yuan(total)} 元会原路退回到您的支付账户。"
        return ctx.decision(Action.REFUND_NOW, rule, reason, facts=facts, refund_amount=total)
    reason = (
        why + "既然您还需要，我们会尽快为您发出。麻烦您在平台上撤销这次退款申请，"
        f"因为申请一直开着的话，平台会在 {ctx.settings.returns.response_deadline_hours} 小时后自动退款，包裹也就被拦下了。"
    )
    return ctx.decision(Action.SHIP_AND_WITHDRAW, rule, reason, facts=facts)


def _pickup_wait(ctx: Context) -> Tuple[dict, str]:
    """R4 facts and opening words when a printed label has waited the alert period or longer."""
    if ctx.state is not ShipState.LABEL_PRINTED:
        return {}, ""
    _, waited, overdue = label_wait(ctx)
    if not overdue:
        return {}, ""
    alert = ctx.settings.logistics.no_pickup_alert_hours
    words = (
        f"很抱歉，您的包裹打单后已经 {int(hours(waited))} 小时（超过 {alert} 小时）没有快递揽收记录，"
        "按揽件扫描算还没有发货，"
    )
    return {"hours_without_pickup": hours(waited), "alert_hours": alert}, words


def shipping_deduction(ctx: Context, cancelled: bool) -> Decimal:
    """R12/R3: the contract shipping cost on a shopper's cancellation of a paid-shipping order, else 0."""
    order = ctx.order
    if not cancelled or order.free_shipping or not ctx.settings.returns.deduct_shipping_on_cancel:
        return Decimal("0")
    return min(order.shipping_cost, order.total)


def _amount_words(ctx: Context, deduction: Decimal, refund: Decimal, cancelled: bool) -> str:
    """Say why the amount is what it is: full refund, or which shipping cost was kept (R12)."""
    if deduction > 0:
        return (
            f"因为这笔订单不包邮、是您主动取消的，退款会扣除我们实际付给快递的发货运费 {yuan(deduction)} 元"
            f"（这是我们和快递的协议价，不是页面标价），实际退您 {yuan(refund)} 元。"
        )
    if cancelled and ctx.order.free_shipping:
        return f"这笔订单是包邮的，发货运费由我们承担，不会从退款里扣，全额退您 {yuan(refund)} 元。"
    return f"退款金额是全额 {yuan(refund)} 元。"


def in_transit(ctx: Context, cancelled: bool) -> Decision:
    """R2 (R12/R3 for a cancellation): recall or refuse, refund once the return scan shows."""
    ship = ctx.ship
    deduction = shipping_deduction(ctx, cancelled)
    refund = ctx.order.total - deduction
    rule = "R2" if not cancelled else ("R3" if ctx.order.free_shipping else "R12")
    reason = (
        f"您的包裹已经由{ship.carrier}揽收，正在路上（运单号 {ship.tracking_no}），没法直接取消了。"
        "我们马上联系快递召回；如果召回不成功，麻烦您在快递送到时拒签。物流一显示退回，我们就为您退款。"
        + _amount_words(ctx, deduction, refund, cancelled)
        + "在这之前，麻烦您先撤销平台上的退款申请，以免平台介入，退款我们一定会办。"
    )
    facts = {
        "tracking_no": ship.tracking_no,
        "picked_up_at": ship.picked_up_at,
        "refund_amount": refund,
        "shipping_deduction": deduction,
        "free_shipping": ctx.order.free_shipping,
    }
    return ctx.decision(Action.RECALL_OR_REFUSE_THEN_REFUND, rule, reason, facts=facts, refund_amount=refund)


def refused(ctx: Context, cancelled: bool) -> Decision:
    """R5: the shopper refused and the parcel is on its way back: approve the refund."""
    deduction = shipping_deduction(ctx, cancelled)
    refund = ctx.order.total - deduction
    reason = "因为您已经拒收、物流显示包裹正在退回，我们现在就同意您的退款，会原路退回。" + _amount_words(
        ctx, deduction, refund, cancelled
    )
    facts = {
        "refund_amount": refund,
        "shipping_deduction": deduction,
        "return_tracking_no": ctx.ship.return_tracking_no,
    }
    return ctx.decision(Action.APPROVE_REFUND, "R5", reason, facts=facts, refund_amount=refund)


def lost_refund(ctx: Context) -> Decision:
    """R11: a confirmed loss asked to be refunded is refunded now, without waiting for the courier's claim."""
    total = ctx.order.total
    reason = (
        f"非常抱歉，{ctx.ship.carrier}已确认包裹丢失，这不是您的责任，现在就为您全额退款 {yuan(total)} 元，"
        "原路退回。向快递索赔由我们去办，不用您等。"
    )
    return ctx.decision(Action.REFUND_NOW, "R11", reason, facts={"refund_amount": total}, refund_amount=total)


def refund_received(ctx: Context) -> Decision:
    """Refund-only after receipt is open to every order (R6), but it needs to see the problem (R16, R8)."""
    if not ctx.has_evidence:
        reason = (
            "包裹已经签收了，不退货只退款的话，需要先看看商品出了什么问题：麻烦您拍几张照片发给我"
            "（问题部位和外包装）。如果只是不想要了，可以走七天无理由退货。照片收到后我马上帮您处理。"
        )
        return ctx.ask_evidence("R16", reason)
    hours_ = news_hours(ctx)
    reason = (
        "照片收到了，谢谢您。已签收商品的仅退款要根据问题的具体情况来定，我已经把照片和订单转给售后同事，"
        f"{hours_} 小时内给您答复，您不用再重复说明。"
    )
    return ctx.decision(Action.HANDOFF, "R8", reason, follow_up_hours=hours_)
