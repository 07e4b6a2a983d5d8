"""The negotiation itself: open with a reasoned offer, answer counter-offers, settle (R9).

Pure functions over an immutable ``Negotiation``: each call returns the new state and a
``Reply``. The shop's promises hold by construction: offers come from the plan's
schedule (never above the ceiling, which is under the margin floor), the standing offer
never goes down, a deal is struck once with one refund key, and a finished negotiation
never reopens at a higher position.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any, Optional, Tuple

from bot.bargain import parse, wording
from bot.bargain.config import BargainConfig
from bot.bargain.plan import Route, make_plan, route_of
from bot.bargain.state import (
    ACCEPTED,
    CLOSED,
    DECLINED_FINAL,
    ESCALATED,
    OPEN,
    HistoryEntry,
    Negotiation,
    Reply,
)

ZERO = Decimal(0)
OFFER_OPTIONS = ("accept", "decline", "return", "exchange", "human")
ALTERNATIVE_OPTIONS = ("return", "exchange", "human")
Result = Tuple[Negotiation, Reply]


def _rng(rng: Optional[random.Random]) -> random.Random:
    return rng if rng is not None else random.Random()


def _new_id(rng: random.Random, order_id: Optional[str]) -> str:
    """Unique per negotiation; drawn from ``rng`` so seeded runs are reproducible."""
    token = uuid.UUID(int=rng.getrandbits(128), version=4).hex[:16]
    return f"{order_id}-{token}" if order_id else token


def refund_key(neg: Negotiation) -> str:
    """Derived from the negotiation id alone: every retry of the same deal gives the same key."""
    return f"bargain:{neg.id}"


def _log(neg: Negotiation, actor: str, amount: Optional[Decimal], text: str, outcome: str) -> Negotiation:
    entry = HistoryEntry(neg.rounds_used, actor, amount, text, outcome)
    return replace(neg, history=neg.history + (entry,))


def _say(
    neg: Negotiation,
    kind: str,
    text: str,
    amount: Optional[Decimal] = None,
    options: Tuple[str, ...] = OFFER_OPTIONS,
) -> Result:
    """Record the shop's words in the history and build the reply."""
    key = neg.refund_key if kind == "accepted" else None
    return _log(neg, "shop", amount, text, kind), Reply(kind, text, amount, key, options)


# ---- opening -----------------------------------------------------------------------


def start_item(
    price: Any,
    cost: Any,
    route: Any,
    kind: str,
    config: Any = None,
    *,
    severity: str = "minor",
    item_name: str = "商品",
    origin: str = "",
    dest: str = "",
    order_id: Optional[str] = None,
    rng: Optional[random.Random] = None,
    neg_id: Optional[str] = None,
) -> Result:
    """Open a negotiation for one item from plain values; returns the first offer."""
    rng, cfg = _rng(rng), BargainConfig.coerce(config)
    price, cost = Decimal(str(price)), Decimal(str(cost))
    plan = make_plan(price, cost, Route(route), severity, cfg)
    neg = Negotiation(
        id=neg_id or _new_id(rng, order_id),
        item_name=item_name,
        price=price,
        cost=cost,
        route=Route(route).value,
        kind=kind,
        severity=severity,
        basis=plan.basis,
        opening=plan.opening,
        ceiling=plan.ceiling,
        margin_cap=plan.margin_cap,
        high_value=plan.high_value,
        schedule=plan.schedule,
        offer=plan.opening,
        max_rounds=cfg.max_rounds,
        order_id=order_id,
        origin=origin,
        dest=dest,
        meet_within=cfg.meet_within,
        concede_above_ceiling=cfg.concede_above_ceiling,
    )
    if not plan.possible:
        neg = replace(neg, status=CLOSED)
        return _say(neg, "no_compensation", wording.no_compensation(neg, rng), None, ALTERNATIVE_OPTIONS)
    return _say(neg, "offer", wording.opening(neg, rng), neg.offer)


def start(
    order: Any,
    kind: str,
    config: Any = None,
    *,
    severity: str = "minor",
    sku: Optional[str] = None,
    rng: Optional[random.Random] = None,
    neg_id: Optional[str] = None,
) -> Result:
    """Open a negotiation for an order's item (``sku``, or the dearest item)."""
    items = [i for i in order.items if sku is None or i.sku == sku] or list(order.items)
    item = max(items, key=lambda i: i.price)
    ship = order.shipment
    return start_item(
        item.price,
        item.cost,
        route_of(ship),
        kind,
        config,
        severity=severity,
        item_name=item.name,
        origin=ship.origin_city,
        dest=ship.dest_city,
        order_id=order.order_id,
        rng=rng,
        neg_id=neg_id,
    )


# ---- settling ----------------------------------------------------------------------


def _settle(neg: Negotiation, amount: Decimal, rng: random.Random, met: bool) -> Result:
    """Strike the deal at ``amount`` (at most the ceiling); a met counter becomes the offer."""
    neg = replace(
        neg, status=ACCEPTED, agreed=amount, offer=max(neg.offer, amount), refund_key=refund_key(neg)
    )
    return _say(neg, "accepted", wording.accepted(neg, rng, met), amount, ())


def _settled(neg: Negotiation, rng: random.Random) -> Result:
    options = ALTERNATIVE_OPTIONS if neg.status in (CLOSED, DECLINED_FINAL) else ()
    if neg.status in (CLOSED, DECLINED_FINAL) and neg.offer > 0:
        options = ("accept",) + ALTERNATIVE_OPTIONS
    return _say(neg, "settled", wording.settled(neg, rng), None, options)


def _can_still_accept(neg: Negotiation) -> bool:
    """After the shopper walked away or rounds ran out, the shop's last offer still stands."""
    return neg.status in (CLOSED, DECLINED_FINAL) and neg.offer > 0


def accept(neg: Negotiation, rng: Optional[random.Random] = None) -> Result:
    """The shopper accepts the standing offer (the dialogue already knows it was a yes)."""
    rng = _rng(rng)
    if neg.status == OPEN or _can_still_accept(neg):
        return _settle(neg, neg.offer, rng, met=False)
    return _settled(neg, rng)


def decline(neg: Negotiation, rng: Optional[random.Random] = None) -> Result:
    """The shopper gives up on compensation: offer return/exchange with shipping paid, or a human."""
    rng = _rng(rng)
    if neg.status != OPEN:
        return _settled(neg, rng)
    neg = replace(neg, status=CLOSED)
    return _say(
        neg, "alternatives", wording.alternatives(neg, rng, after_decline=True), None, ALTERNATIVE_OPTIONS
    )


def restate(neg: Negotiation, rng: Optional[random.Random] = None) -> str:
    """Where things stand, for a shopper who comes back to an open or finished negotiation."""
    rng = _rng(rng)
    if neg.status == OPEN:
        return wording.clarify(neg, rng) if neg.history else wording.opening(neg, rng)
    if neg.status == CLOSED and neg.offer == 0:
        return wording.no_compensation(neg, rng)
    return wording.settled(neg, rng)


# ---- counter-offers -----------------------------------------------------------------


def respond(neg: Negotiation, shopper_text: str, rng: Optional[random.Random] = None) -> Result:
    """Answer one shopper message: accept, refuse, meet, concede, or end with alternatives."""
    rng = _rng(rng)
    move = parse.interpret(shopper_text, neg.offer if neg.offer > 0 else neg.ceiling, neg.price)
    # only counters (at most the item price) carry an amount into the history: "一万亿" would
    # not fit the offers table's Numeric(10, 2), and the words themselves are kept anyway
    kept = move.amount if move.kind == parse.COUNTER else None
    neg = _log(neg, "shopper", kept, shopper_text, move.kind)
    if neg.status != OPEN:
        return _after_close(neg, move, rng)
    neg = replace(neg, turns=neg.turns + 1)
    handler = {
        parse.ACCEPT: lambda: _settle(neg, neg.offer, rng, met=False),
        parse.DECLINE: lambda: decline(neg, rng),
        parse.HUMAN: lambda: _escalate(neg, rng),
        parse.COUNTER: lambda: _counter(neg, move.amount, rng),
        parse.MORE: lambda: _more(neg, rng),
        parse.INVALID: lambda: _not_understood(neg, rng, "invalid_amount", move),
    }.get(move.kind, lambda: _not_understood(neg, rng, "clarify", move))
    return handler()


def _after_close(neg: Negotiation, move: parse.Move, rng: random.Random) -> Result:
    """A finished negotiation: the last offer may still be taken, never bettered."""
    if _can_still_accept(neg):
        if move.kind == parse.ACCEPT:
            return _settle(neg, neg.offer, rng, met=False)
        if move.kind == parse.COUNTER and move.amount is not None and ZERO < move.amount <= neg.offer:
            return _settle(neg, move.amount, rng, met=True)
    if move.kind == parse.HUMAN and neg.status in (CLOSED, DECLINED_FINAL):
        return _escalate(neg, rng)
    return _settled(neg, rng)


def _escalate(neg: Negotiation, rng: random.Random) -> Result:
    neg = replace(neg, status=ESCALATED)
    return _say(neg, "escalated", wording.escalated(neg, rng), None, ())


def _not_understood(neg: Negotiation, rng: random.Random, kind: str, move: parse.Move) -> Result:
    """An amount that makes no sense, or words we cannot read: say so, offer nothing new."""
    if neg.turns >= neg.max_turns:
        return _final(neg, rng)
    if kind == "invalid_amount":
        return _say(neg, kind, wording.invalid(neg, rng, move.reason, move.amount), None)
    return _say(neg, kind, wording.clarify(neg, rng), neg.offer)


def _counter(neg: Negotiation, ask: Decimal, rng: random.Random) -> Result:
    """A counter-offer: at or below our offer we pay what was asked; above, a round is spent."""
    if ask <= neg.offer:
        return _settle(neg, ask, rng, met=True)
    if neg.rounds_used >= neg.max_rounds:
        return _final(neg, rng)  # the final offer was made: no more concessions
    neg = replace(neg, rounds_used=neg.rounds_used + 1)
    step = neg.schedule[neg.rounds_used]
    if ask <= neg.ceiling and ask <= step + neg.meet_within:
        return _settle(neg, ask, rng, met=True)
    if ask <= neg.ceiling:
        return _raise(neg, step, rng)
    before = neg.offer
    if neg.concede_above_ceiling:  # decline the sum, still show good will (shop.yml)
        neg = replace(neg, offer=max(neg.offer, step))
    if neg.rounds_used >= neg.max_rounds:
        return _final(neg, rng)
    text = wording.above_ceiling(neg, rng, ask, raised=neg.offer > before)
    return _say(neg, "declined_above_ceiling", text, neg.offer)


def _more(neg: Negotiation, rng: random.Random) -> Result:
    """ "再加点" without a number: the next step of the schedule, if there is one."""
    if neg.rounds_used >= neg.max_rounds:
        return _final(neg, rng)
    neg = replace(neg, rounds_used=neg.rounds_used + 1)
    step = neg.schedule[neg.rounds_used]
    if step > neg.offer:
        return _raise(neg, step, rng)
    if neg.rounds_used >= neg.max_rounds:
        return _final(neg, rng)
    return _say(neg, "held", wording.held(neg, rng), neg.offer)


def _raise(neg: Negotiation, step: Decimal, rng: random.Random) -> Result:
    """A higher offer with its reason; in the last round it is the final word."""
    neg = replace(neg, offer=max(neg.offer, step))
    final = neg.rounds_used >= neg.max_rounds or neg.offer >= neg.ceiling
    kind = "final_offer" if final else "offer"
    return _say(neg, kind, wording.concession(neg, rng, final), neg.offer)


def _final(neg: Negotiation, rng: random.Random) -> Result:
    """Rounds used up: the last offer stands; otherwise return/exchange with shipping paid, or a human."""
    neg = replace(neg, status=DECLINED_FINAL)
    return _say(
        neg,
        "alternatives",
        wording.alternatives(neg, rng, after_decline=False),
        None,
        ("accept",) + ALTERNATIVE_OPTIONS,
    )
