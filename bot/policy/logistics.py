"""Where the parcel is, and what we promise about it (R4, R11).

``status`` tells; ``delay`` and ``lost`` answer a worried shopper, so they promise news
by a deadline (R11: 24 h, never beyond the configured maximum) and record it (R14).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional, Tuple

from bot.domain import ShipState, TrackingEvent
from bot.policy.context import Context
from bot.policy.model import Action, Decision
from bot.policy.timing import hours, say_time, since, yuan


def news_hours(ctx: Context) -> int:
    """R11: the promised deadline for news, capped at the maximum the shop allows."""
    logistics = ctx.settings.logistics
    return min(logistics.news_promise_hours, logistics.max_news_hours)


def status(ctx: Context) -> Decision:
    """The shopper only asks where the order is."""
    return _by_state(ctx, worried=False)


def delay(ctx: Context) -> Decision:
    """ "Why is it taking so long": R4 if it was never picked up, else R11 news by a deadline."""
    return _by_state(ctx, worried=True)


def lost(ctx: Context) -> Decision:
    """ "I think it is lost": same paths as a delay; a confirmed loss is re-shipped or refunded."""
    return _by_state(ctx, worried=True, fears_loss=True)


def _by_state(ctx: Context, worried: bool, fears_loss: bool = False) -> Decision:
    state = ctx.state
    if state is ShipState.NOT_SHIPPED:
        return _not_shipped(ctx, worried and not fears_loss)
    if state is ShipState.LABEL_PRINTED:
        return _label_printed(ctx, worried)
    if state is ShipState.IN_TRANSIT:
        return _in_transit(ctx, worried, fears_loss)
    if state is ShipState.DELIVERED:
        return delivered_not_received(ctx) if worried else _delivered(ctx)
    if state is ShipState.REFUSED:
        return _refused(ctx)
    return lost_parcel(ctx)


def _not_shipped(ctx: Context, worried: bool) -> Decision:
    paid = say_time(ctx.order.paid_at, ctx.settings)
    facts = {"paid_at": ctx.order.paid_at}
    if not worried:
        reason = (
            f"您的订单{paid}已付款，仓库正在备货，还没有交给快递，所以暂时没有物流信息；"
            "发出后在订单里就能查到物流。"
        )
        return ctx.decision(Action.TELL_LOCATION, "R11", reason, facts=facts)
    hours_ = news_hours(ctx)
    reason = (
        f"让您久等了，真抱歉。您的订单{paid}付款，目前还在仓库备货、没有交给快递。我马上去催仓库，"
        f"{hours_} 小时内一定给您回复发货进度；如果您不想等了，发货前申请退款可以马上为您办理。"
    )
    return ctx.decision(Action.PROMISE_NEWS, "R11", reason, facts=facts, follow_up_hours=hours_)


def label_wait(ctx: Context) -> Tuple[datetime, timedelta, bool]:
    """R4: when the label was printed, how long it has waited, and whether that is the alert
    period or longer (exactly 72 h counts; 71 h 59 min does not). No label time: since payment."""
    printed = ctx.ship.label_printed_at or ctx.order.paid_at
    waited = since(printed, ctx.now)
    return printed, waited, waited >= timedelta(hours=ctx.settings.logistics.no_pickup_alert_hours)


def _label_printed(ctx: Context, worried: bool) -> Decision:
    """R4: no pickup scan for the alert period or longer needs action; before that, it is normal."""
    ship = ctx.ship
    printed, waited, overdue = label_wait(ctx)
    alert = ctx.settings.logistics.no_pickup_alert_hours
    facts = {"label_printed_at": printed, "hours_without_pickup": hours(waited), "alert_hours": alert}
    if overdue:
        return _no_pickup_alert(ctx, waited, alert, facts)
    when = say_time(printed, ctx.settings)
    reason = (
        f"您的包裹已在{when}打好面单，正在等{ship.carrier}上门揽收，目前还没有揽收记录。"
        f"一般打单后 {alert} 小时内会揽收，"
    )
    if not worried:
        reason += "揽收后物流信息会马上更新。"
        return ctx.decision(Action.TELL_LOCATION, "R11", reason, facts=facts)
    hours_ = news_hours(ctx)
    reason += f"我这就去催快递尽快上门，{hours_} 小时内给您回复。"
    return ctx.decision(Action.PROMISE_NEWS, "R11", reason, facts=facts, follow_up_hours=hours_)


def _no_pickup_alert(ctx: Context, waited: timedelta, alert: int, facts: dict) -> Decision:
    """R4: check whether it moves; if so say where; if not, chase it and offer a way out."""
    latest = _latest(ctx)
    passed = f"打单后已经 {int(hours(waited))} 小时（超过 {alert} 小时）没有快递揽收扫描"
    if latest is not None:
        reason = (
            f"您的包裹{passed}，但我查到它已经在走了：最新物流是{_scan(ctx, latest)}。"
            "如果您还是不想要了，可以在快递送达时拒签，退回后为您办理仅退款。"
        )
        facts = {**facts, "latest_scan": latest.location + latest.description}
        return ctx.decision(Action.TELL_LOCATION, "R4", reason, facts=facts)
    hours_ = news_hours(ctx)
    reason = (
        f"很抱歉，您的包裹{passed}，这不正常。我马上联系{ctx.ship.carrier}核实包裹在哪里，"
        f"{hours_} 小时内给您回复；如果您不想等了，我们召回包裹后直接为您办理仅退款。"
    )
    return ctx.decision(Action.PROMISE_NEWS, "R4", reason, facts=facts, follow_up_hours=hours_)


def _in_transit(ctx: Context, worried: bool, fears_loss: bool) -> Decision:
    """Moving parcels are located; a stalled one, or a worried shopper, gets a news deadline."""
    ship, latest = ctx.ship, _latest(ctx)
    last_at = latest.at if latest else (ship.picked_up_at or ctx.order.paid_at)
    quiet = since(last_at, ctx.now)
    stalled = quiet >= timedelta(hours=ctx.settings.logistics.stalled_after_hours)
    where = f"最新物流是{_scan(ctx, latest)}" if latest else "目前还没有新的物流扫描"
    facts = {"tracking_no": ship.tracking_no, "hours_since_last_scan": hours(quiet), "stalled": stalled}
    head = f"您的包裹由{ship.carrier}运输中（运单号 {ship.tracking_no}），{where}。"
    if not stalled and (not worried or fears_loss):
        tail = "包裹一直在正常流转，没有丢，请您放心。" if fears_loss else "签收前物流会持续更新。"
        return ctx.decision(Action.TELL_LOCATION, "R11", head + tail, facts=facts)
    hours_ = news_hours(ctx)
    pause = f"已经 {int(hours(quiet))} 小时没有更新了，" if stalled else ""
    reason = (
        f"让您久等了，真抱歉。{head}{pause}我马上联系{ship.carrier}催件，{hours_} 小时内给您回复进展；"
        "如果快递确认丢件，我们立刻为您补发或退款，不用等快递理赔。"
    )
    return ctx.decision(Action.PROMISE_NEWS, "R11", reason, facts=facts, follow_up_hours=hours_)


def _delivered(ctx: Context) -> Decision:
    ship = ctx.ship
    when = say_time(ship.delivered_at, ctx.settings) if ship.delivered_at else "之前"
    latest = _latest(ctx)
    signed = f"（{latest.description}）" if latest else ""
    reason = f"您的包裹已于{when}签收{signed}。如果您没有收到，请告诉我，我马上帮您核实。"
    return ctx.decision(Action.TELL_LOCATION, "R11", reason, facts={"delivered_at": ship.delivered_at})


def delivered_not_received(ctx: Context) -> Decision:
    """R11: shown as delivered but the shopper has nothing: investigated as a lost parcel."""
    ship, hours_ = ctx.ship, news_hours(ctx)
    when = say_time(ship.delivered_at, ctx.settings) if ship.delivered_at else "之前"
    latest = _latest(ctx)
    signed = f"（{latest.description}）" if latest else ""
    reason = (
        f"物流显示包裹已于{when}签收{signed}，但您没有收到，我们按丢件来跟进：您可以先看看门卫、快递柜或驿站；"
        f"我同时联系{ship.carrier}核实是谁签收的，{hours_} 小时内给您回复。如果确实找不到，立刻为您补发或退款，"
        "不用等快递理赔。"
    )
    facts = {"delivered_at": ship.delivered_at, "lost_investigation": True}
    return ctx.decision(Action.PROMISE_NEWS, "R11", reason, facts=facts, follow_up_hours=hours_)


def _refused(ctx: Context) -> Decision:
    latest = _latest(ctx)
    where = f"最新物流是{_scan(ctx, latest)}" if latest else "正在退回仓库"
    reason = f"您已经拒收了这个包裹，{where}。您申请退款的话我们会马上同意，不用等包裹回到仓库。"
    return ctx.decision(
        Action.TELL_LOCATION, "R5", reason, facts={"return_tracking_no": ctx.ship.return_tracking_no}
    )


def lost_parcel(ctx: Context) -> Decision:
    """R11: a confirmed loss is re-shipped at once or refunded; the courier claim is ours to chase."""
    total = ctx.order.total
    reason = (
        f"非常抱歉，{ctx.ship.carrier}已确认您的包裹丢失了。我们可以马上为您重新发货（着急的话换更快的快递），"
        f"也可以直接全额退款 {yuan(total)} 元（商品和运费全部退回），您选哪种都可以。"
        "向快递索赔是我们的事，不需要您等理赔结果。"
    )
    return ctx.decision(
        Action.RESHIP_OR_REFUND, "R11", reason, refund_amount=total, facts={"refund_amount": total}
    )


def _latest(ctx: Context) -> Optional[TrackingEvent]:
    events = ctx.ship.events
    return max(events, key=lambda e: e.at) if events else None


def _scan(ctx: Context, event: Optional[TrackingEvent]) -> str:
    if event is None:
        return ""
    return f"{say_time(event.at, ctx.settings)} {event.location}{event.description}"
