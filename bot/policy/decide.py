"""The one entry point: which rule applies to this request on this order, now."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Optional, Union

from bot.domain import Order, ShipState
from bot.policy import logistics, problems, refunds, returns
from bot.policy.context import PERFORMANCE_FAULTS, Context
from bot.policy.model import Decision, Request
from bot.policy.timing import response_deadline
from bot.policy.warranty import decide_warranty, warranty_item
from bot.settings import Settings

# Requests that open a refund on the platform: R7's answer-by deadline applies to them.
MONEY = frozenset({Request.REFUND_ONLY, Request.RETURN, Request.CANCEL})
BEFORE_PICKUP = frozenset({ShipState.NOT_SHIPPED, ShipState.LABEL_PRINTED})
LOGISTICS = {Request.STATUS: logistics.status, Request.DELAY: logistics.delay, Request.LOST: logistics.lost}


def decide(
    order: Order,
    request: Union[Request, str],
    now: datetime,
    settings: Settings,
    *,
    item_sku: Optional[str] = None,
    still_wants_item: Optional[bool] = None,
    has_evidence: bool = False,
    fault: Optional[str] = None,
) -> Decision:
    """Apply R1-R13 and R16 to one request.

    Args:
        order: the order as the store returns it.
        request: what the shopper asks (a ``Request`` or its value).
        now: the moment of deciding; every window is measured against it.
        settings: the shop's settings (``load_settings()``).
        item_sku: the item the request is about; None means the whole order.
        still_wants_item: the shopper's answer to "do you still want it?" (R1; False also
            means "I want my money rather than an exchange" for R8).
        has_evidence: photos or screenshots were sent (R8, R10, R13, R16).
        fault: "performance", "cannot_format", "noise" (R13) or "missing" (R8).
    """
    ctx = Context.build(
        order,
        request,
        now,
        settings,
        item_sku=item_sku,
        still_wants_item=still_wants_item,
        has_evidence=has_evidence,
        fault=fault,
    )
    decision = _route(ctx)
    if ctx.request in MONEY:
        facts = {**decision.facts, "respond_by": response_deadline(now, settings)}
        decision = replace(decision, facts=facts)
    return decision


def without_evidence(
    order: Order, request: Union[Request, str], now: datetime, settings: Settings, *, item_sku: Optional[str] = None
) -> Decision:
    """R16: the shopper cannot send the photo asked for: what is possible without one, and a reminder."""
    ctx = Context.build(order, request, now, settings, item_sku=item_sku)
    return problems.without_evidence(ctx)


def _route(ctx: Context) -> Decision:
    if ctx.request in LOGISTICS:
        return LOGISTICS[ctx.request](ctx)
    if ctx.request in MONEY:
        return _money(ctx)
    if ctx.state is not ShipState.DELIVERED:
        return _not_received(ctx)
    return _item_problem(ctx)


def _money(ctx: Context) -> Decision:
    """Refund-only, return or cancel: what is possible depends on where the parcel is."""
    cancelled = ctx.request is Request.CANCEL
    if ctx.state in BEFORE_PICKUP:
        wants = ctx.still_wants_item
        if cancelled and wants is None:
            wants = False  # asking to cancel already says the item is not wanted
        return refunds.before_pickup(ctx, wants)
    if ctx.state is ShipState.IN_TRANSIT:
        return refunds.in_transit(ctx, cancelled)
    if ctx.state is ShipState.REFUSED:
        return refunds.refused(ctx, cancelled)
    if ctx.state is ShipState.LOST:
        return refunds.lost_refund(ctx)
    if ctx.request is Request.REFUND_ONLY:
        return refunds.refund_received(ctx)
    return returns.no_reason(ctx, exchange=False)


def _item_problem(ctx: Context) -> Decision:
    """Received goods: a performance fault on goods with 三包 terms goes to R13, the rest to R6/R8/R10."""
    item = warranty_item(ctx)
    terms = ctx.terms_for(item)
    faulty = ctx.fault in PERFORMANCE_FAULTS or ctx.fault == "noise"
    if terms and (ctx.request is Request.WARRANTY or (faulty and ctx.request in _FAULT_ROUTES)):
        return decide_warranty(ctx, item, terms)
    if ctx.request in (Request.WARRANTY, Request.QUALITY_ISSUE):
        return problems.quality(ctx)  # no 三包 terms (clothes, food...): a quality issue (R8)
    if ctx.request is Request.EXCHANGE:
        return returns.no_reason(ctx, exchange=True)
    return _PROBLEMS[ctx.request](ctx)


_FAULT_ROUTES = frozenset({Request.QUALITY_ISSUE, Request.EXCHANGE})
_PROBLEMS = {
    Request.COLOR_MISMATCH: problems.colour,
    Request.SIZE_MISMATCH: problems.size,
    Request.WRONG_ITEM: problems.wrong_item,
}


def _not_received(ctx: Context) -> Decision:
    """A problem with goods not yet received: say where they are instead (R11), never a bare no."""
    status = logistics.status(ctx)
    return replace(status, reason="您的包裹还没有签收，收到后如果有问题随时找我。" + status.reason)
