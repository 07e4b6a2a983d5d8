"""R13 三包 for a performance failure: return, exchange, repair or replace, or the manufacturer.

Two clocks, as the sources describe them:

* the 7-day return and 15-day exchange windows run from delivery (when the shopper got
  the goods), closed at their end like R6;
* the warranty period runs from the invoice date, or from the manufacture date when
  there is no invoice (then delivery, then payment, when even that is unknown), for
  the item's ``warranty_months`` or its category's months in shop.yml.

Out of our period, laptops go to the manufacturer's authorised service; other goods
are out of warranty. A hard disk's failure must be real (it cannot be formatted):
noise alone is not a performance failure.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Tuple

from bot.domain import Item
from bot.policy.context import PERFORMANCE_FAULTS, Context
from bot.policy.model import Action, Decision
from bot.policy.returns import received_at
from bot.policy.timing import add_months, days, say_date, say_time, since, within, yuan
from bot.settings import WarrantyTerms

STORAGE = "storage"  # shop.yml category of hard disks (R13)
SOURCE_WORDS = {
    "invoice": "发票日期",
    "manufacture": "出厂日期",
    "delivery": "签收日期",
    "payment": "付款日期",
}


def warranty_item(ctx: Context) -> Item:
    """The item the warranty request is about: the first one with 三包 terms."""
    return next((i for i in ctx.items if ctx.terms_for(i)), ctx.items[0])


def warranty_start(ctx: Context, item: Item) -> Tuple[datetime, str]:
    """Invoice date, else manufacture date (R13); delivery or payment only when both are unknown."""
    if item.invoice_date is not None:
        return item.invoice_date, "invoice"
    if item.manufacture_date is not None:
        return item.manufacture_date, "manufacture"
    if ctx.ship.delivered_at is not None:
        return ctx.ship.delivered_at, "delivery"
    return ctx.order.paid_at, "payment"


def decide_warranty(ctx: Context, item: Item, terms: WarrantyTerms) -> Decision:
    """Period first (no photo is needed to say it is over), then the fault, then the remedy."""
    start, source = warranty_start(ctx, item)
    end = add_months(start, terms.months)
    got = received_at(ctx)
    facts = {
        "warranty_start": start,
        "warranty_from": source,
        "warranty_end": end,
        "warranty_months": terms.months,
        "delivered_at": got,
        "days_since_delivery": days(since(got, ctx.now)),
    }
    if not within(start, ctx.now, end - start):
        return _after_period(ctx, item, terms, source, end, facts)
    if item.category == STORAGE and ctx.fault == "noise":
        return _noise(ctx, item, facts)
    if ctx.fault not in PERFORMANCE_FAULTS and not ctx.has_evidence:
        return _ask_fault(ctx, item, facts)
    return _remedy(ctx, item, terms, got, end, facts)


def _after_period(
    ctx: Context, item: Item, terms: WarrantyTerms, source: str, end: datetime, facts: dict
) -> Decision:
    """R13 + R16: say when the period ended and from which date; an invoice may move it."""
    counted = (
        f"保修期从{SOURCE_WORDS[source]}算起共 {terms.months} 个月，已在{say_date(end, ctx.settings)}到期"
    )
    no_invoice = source != "invoice"
    invoice_hint = "如果您有发票，麻烦拍照发给我，保修期会按开票日期重新核算。" if no_invoice else ""
    if terms.manufacturer_after:
        reason = (
            f"因为{item.name}在我们店的{counted}，之后的保修由品牌厂家负责：请带上发票和保修卡，"
            "到品牌官网查到的就近授权服务网点检修，尽量不要去私人小店，以免越修问题越多。"
            f"需要的话我可以帮您查网点。{invoice_hint}"
        )
        return ctx.decision(
            Action.MANUFACTURER_SERVICE, "R13", reason, facts=facts, needs_evidence=no_invoice
        )
    reason = (
        f"很抱歉，因为{item.name}的{counted}，没法再免费保修了。我们可以帮您联系有偿维修，"
        f"费用先报给您确认。{invoice_hint}"
    )
    return ctx.decision(Action.OUT_OF_WARRANTY, "R13", reason, facts=facts, needs_evidence=no_invoice)


def _noise(ctx: Context, item: Item, facts: dict) -> Decision:
    """R13: a hard disk that only makes noise has no performance failure; ask whether it formats."""
    reason = (
        f"因为按三包规定，硬盘的性能故障是指不能正常格式化，只有噪音不算性能故障，所以{item.name}"
        "暂时没法按三包退换。麻烦您试一下能否正常格式化、读写是否报错；如果格式化失败，把报错截图发给我，"
        "我们马上按三包为您处理。"
    )
    return ctx.decision(Action.NOISE_NOT_FAILURE, "R13", reason, facts=facts, needs_evidence=True)


def _ask_fault(ctx: Context, item: Item, facts: dict) -> Decision:
    """R16: a failure must be seen before a 三包 remedy; ask for it instead of refusing."""
    if item.category == STORAGE:
        reason = (
            "麻烦您试一下硬盘能否正常格式化，把报错截图或视频发给我。因为按三包规定，"
            "硬盘退换的条件是性能故障（不能正常格式化），确认后马上为您处理。"
        )
    else:
        reason = (
            f"很抱歉{item.name}出了问题。麻烦您拍一段故障的视频或照片发给我，"
            "再说一下出现问题时的情况，确认是性能故障后马上按三包为您处理。"
        )
    return ctx.ask_evidence("R13", reason, facts=facts)


def _remedy(
    ctx: Context, item: Item, terms: WarrantyTerms, got: datetime, end: datetime, facts: dict
) -> Decision:
    """R13: return within 7 days, exchange within 15, then repair (small appliances: replace)."""
    returns = ctx.settings.returns
    address = ctx.warehouse.return_address
    facts = {**facts, "return_address": address}
    received = say_time(got, ctx.settings)
    ends = say_date(end, ctx.settings)
    if within(got, ctx.now, timedelta(days=returns.failure_return_days)):
        refund = ctx.goods_value((item,))
        deadline = say_time(got + timedelta(days=returns.failure_return_days), ctx.settings)
        reason = (
            f"您在{received}签收，还在 {returns.failure_return_days} 天包退期内（到{deadline}），"
            f"性能故障可以直接退货退款 {yuan(refund)} 元，想换新的也可以。"
            "请寄到下面的地址，寄出后把快递单号发给我。"
        )
        return ctx.decision(
            Action.RETURN_WITHIN_7,
            "R13",
            reason,
            facts={**facts, "refund_amount": refund},
            refund_amount=refund,
            return_address=address,
        )
    if within(got, ctx.now, timedelta(days=returns.exchange_days)):
        deadline = say_time(got + timedelta(days=returns.exchange_days), ctx.settings)
        reason = (
            f"您在{received}签收，已经过了 {returns.failure_return_days} 天包退期，"
            f"但还在 {returns.exchange_days} 天包换期内（到{deadline}），可以给您换一台新的。"
            "请寄到下面的地址，寄出后把快递单号发给我。"
        )
        return ctx.decision(Action.EXCHANGE_WITHIN_15, "R13", reason, facts=facts, return_address=address)
    if terms.replace_not_repair:
        reason = (
            f"{item.name}在 {terms.months} 个月保修期内（到{ends}），小家电保修期内出现质量问题只换不修："
            "请寄到下面的地址，我们收到后直接给您换一台新的。"
        )
        return ctx.decision(
            Action.REPLACE_SMALL_APPLIANCE, "R13", reason, facts=facts, return_address=address
        )
    reason = (
        f"{item.name}在 {terms.months} 个月保修期内（到{ends}），已过 {returns.exchange_days} 天包换期，"
        "可以为您免费维修：请附上订单号寄到下面的地址，修好后我们寄回给您。"
    )
    return ctx.decision(Action.REPAIR_IN_WARRANTY, "R13", reason, facts=facts, return_address=address)
