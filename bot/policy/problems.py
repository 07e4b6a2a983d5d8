"""Something is wrong with the received goods (R8 quality, R10 colour, sizes, wrong/missing items).

Each asks for photos first (R16: ask rather than refuse). With photos, the shop offers
the remedy that keeps the customer: an exchange at its own cost (R8), the choice of
exchange, return or compensation for a colour difference (R10; the amount comes from
``bot.bargain``), a re-shipment of what was missing. A refund instead of an exchange
is decided case by case by a person (R8).
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain import SpecialGoods
from bot.policy.context import Context
from bot.policy.logistics import news_hours
from bot.policy.model import Action, Decision
from bot.policy.timing import within


def _address_facts(ctx: Context) -> dict:
    return {"return_address": ctx.warehouse.return_address, "warehouse": ctx.warehouse.name}


def colour(ctx: Context) -> Decision:
    """R10: daylight photo, explain screens, then exchange / return / compensation (R9)."""
    if not ctx.has_evidence:
        reason = (
            "很抱歉颜色和您预期的不一样。因为手机、电脑屏幕显示的颜色会有差异，室内灯光下看也容易偏色，"
            "麻烦您在白天自然光下拍一张商品的照片发给我，我对照实物颜色后给您最合适的处理。"
        )
        return ctx.ask_evidence("R10", reason)
    reason = (
        "照片收到了，谢谢您，确实和页面图片有色差，给您添麻烦了。商品本身使用没有问题吧？"
        "您可以选：换一件（来回运费我们出），退货退款（运费我们出），"
        "或者您愿意留着用的话，我们给您一笔补偿，金额会跟您说明是怎么算的。"
    )
    return ctx.decision(
        Action.OFFER_OPTIONS_OR_COMPENSATION,
        "R10",
        reason,
        facts=_address_facts(ctx),
        return_address=ctx.warehouse.return_address,
    )


def size(ctx: Context) -> Decision:
    """Like R10, but an exchange for the right size comes first (R8: the shop pays shipping)."""
    if not ctx.has_evidence:
        reason = (
            "抱歉尺码不合适。麻烦您把商品平铺，用尺子量一下相关尺寸（比如衣长、胸围或鞋内长）拍照发给我，"
            "我和尺码表对照一下。如果只是尺码选得不合适，签收七天内也可以无理由换货。"
        )
        return ctx.ask_evidence("R8", reason)
    reason = (
        "照片收到了，谢谢您，尺寸和我们的尺码表对不上，是我们的问题。先给您换一件合适的尺码，来回运费都由我们承担；"
        "如果您不想换，也可以退货退款，或者商量一个补偿。"
    )
    return ctx.decision(
        Action.OFFER_EXCHANGE_SHOP_PAYS,
        "R8",
        reason,
        facts=_address_facts(ctx),
        return_address=ctx.warehouse.return_address,
    )


def quality(ctx: Context) -> Decision:
    """R8: photos; then an exchange at the shop's cost; a refund instead goes to a person."""
    if not ctx.has_evidence:
        reason = (
            "很抱歉给您带来不好的体验。麻烦您拍几张照片发给我（问题部位近景和商品整体），"
            "我看清楚是什么问题后马上给您处理方案。"
        )
        return ctx.ask_evidence("R8", reason)
    if ctx.still_wants_item is False:
        hours_ = news_hours(ctx)
        reason = (
            "理解您更想退款。这类问题多半是生产或运输中造成的个别情况，换一件新的通常最快能解决；"
            f"您仍然希望退款的话，我已经把照片和订单转给售后同事按实际情况处理，{hours_} 小时内给您答复，"
            "您不用再重复说明。"
        )
        return ctx.decision(Action.HANDOFF, "R8", reason, follow_up_hours=hours_)
    if any(i.special is SpecialGoods.FRESH for i in ctx.items):
        reason = (
            "照片收到了，真抱歉让您收到这样的商品。生鲜不用寄回，我们马上给您重新发一份，运费我们承担；"
            "如果您不想要补发，也可以告诉我，我们按实际情况为您办理退款。"
        )
        return ctx.decision(Action.OFFER_EXCHANGE_SHOP_PAYS, "R8", reason, facts={"return_needed": False})
    reason = (
        "照片收到了，确实是质量问题，真抱歉。给您换一件新的，寄回和重新发出的运费都由我们承担。"
        "请寄到下面的地址，寄出后把快递单号发给我。"
    )
    return ctx.decision(
        Action.OFFER_EXCHANGE_SHOP_PAYS,
        "R8",
        reason,
        facts=_address_facts(ctx),
        return_address=ctx.warehouse.return_address,
    )


def wrong_item(ctx: Context) -> Decision:
    """Wrong style or missing items: photos, then re-ship what is missing or exchange at our cost."""
    if not ctx.has_evidence:
        reason = (
            "很抱歉出了这样的问题。麻烦您拍一下收到的商品和快递面单（或包装清单）发给我，"
            "我和仓库的发货记录核对后马上给您处理。"
        )
        return ctx.ask_evidence("R8", reason)
    if ctx.fault == "missing":
        hours_ = news_hours(ctx)
        reason = (
            f"核对过了，是我们漏发了{ctx.names}，真抱歉。马上为您补发，运费我们承担，"
            f"{hours_} 小时内把补发的快递单号发给您。"
        )
        return ctx.decision(Action.RESHIP_MISSING, "R8", reason, follow_up_hours=hours_)
    reason = (
        "核对过了，是我们发错了款，真抱歉。给您换成您下单的款式，寄回和重新发出的运费都由我们承担；"
        "请把收到的商品寄到下面的地址，寄出后把快递单号发给我。"
    )
    return ctx.decision(
        Action.OFFER_EXCHANGE_SHOP_PAYS,
        "R8",
        reason,
        facts=_address_facts(ctx),
        return_address=ctx.warehouse.return_address,
    )


def without_evidence(ctx: Context) -> Decision:
    """R16: the shopper cannot send a photo now. Say it is fine, never ask the same way again,
    remind later (a recorded promise), and offer what needs no photo: a no-reason return while
    the R6 window is open, or a person."""
    hours_ = ctx.settings.returns.evidence_reminder_hours
    returnable = [i for i in ctx.items if i.special is SpecialGoods.NONE]
    delivered = ctx.ship.delivered_at
    window = timedelta(days=ctx.settings.returns.no_reason_days)
    can_return = bool(returnable) and delivered is not None and within(delivered, ctx.now, window)
    if can_return:
        options = "如果不想等，签收 7 天内的商品也可以直接申请无理由退货，不需要照片；或者我帮您转人工客服。"
    else:
        options = "如果您想先和人工客服沟通，我也可以帮您转接。"
    reason = (
        f"没关系，不着急。照片是为了确认问题、给您最合适的处理，您方便的时候随时发给我就行，"
        f"我 {hours_} 小时后会再提醒您一次。{options}"
    )
    return ctx.decision(
        Action.OFFER_WITHOUT_EVIDENCE, ctx_rule(ctx), reason, follow_up_hours=hours_,
        facts={"can_return_without_photo": can_return},
    )


def ctx_rule(ctx: Context) -> str:
    """The rule that asked for the photo: R10 for colour, R8 for the other product problems."""
    return "R10" if ctx.request.value == "color_mismatch" else "R8"
