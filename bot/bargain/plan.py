"""What the shop may offer for one item: opening, ceiling and concession schedule (R9).

The amounts follow seed 003: anchor on one-way shipping (same city up to 10 元, other
province 10-15 元), 20-50 元 for high-value items depending on margin, and never so
much that the shop keeps less than ``keep_margin_share`` of its margin. Offers are whole
元 and always rounded down, so no rounding can cross the margin floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Optional, Tuple

from bot.bargain.config import BargainConfig

ZERO = Decimal(0)
ONE = Decimal(1)


class Route(str, Enum):
    """How far the parcel travelled: the shipping anchor of the offer."""

    SAME_CITY = "same_city"
    SAME_PROVINCE = "same_province"
    OTHER_PROVINCE = "other_province"


def route_of(shipment: object) -> Route:
    """The route of a ``bot.domain.Shipment`` (anything with same_city / same_province)."""
    if getattr(shipment, "same_city", False):
        return Route.SAME_CITY
    if getattr(shipment, "same_province", False):
        return Route.SAME_PROVINCE
    return Route.OTHER_PROVINCE


@dataclass(frozen=True)
class Plan:
    """The shop's position before the first word: never offer above ``ceiling``.

    ``basis`` names the reason of the opening offer (the route, or ``margin`` when the
    item's margin, not shipping, limits it). ``schedule[k]`` is the most the shop offers
    after k rounds; ``schedule[0]`` is the opening and the last entry the ceiling.
    """

    opening: Decimal
    ceiling: Decimal
    schedule: Tuple[Decimal, ...]
    basis: str
    margin_cap: Decimal
    high_value: bool

    @property
    def possible(self) -> bool:
        return self.ceiling > 0


def _whole(value: Decimal, rounding: str = ROUND_FLOOR) -> Decimal:
    return value.quantize(Decimal(1), rounding=rounding)


def margin_cap(price: Decimal, cost: Decimal, config: BargainConfig) -> Decimal:
    """The most any deal may pay: the shop keeps ``keep_margin_share`` of the margin."""
    return max(ZERO, (price - cost) * (1 - config.keep_margin_share))


def route_band(route: Route, config: BargainConfig) -> Tuple[Decimal, Decimal]:
    """One-way shipping for this route: (low, high) 元."""
    return {
        Route.SAME_CITY: (config.same_city_min, config.same_city_max),
        Route.SAME_PROVINCE: (config.same_province_min, config.same_province_max),
        Route.OTHER_PROVINCE: (config.other_province_min, config.other_province_max),
    }[Route(route)]


def high_value_top(price: Decimal, cost: Decimal, config: BargainConfig) -> Decimal:
    """20-50 元, further up the higher the item's margin rate."""
    rate = (price - cost) / price if price > 0 else ZERO
    span = config.margin_rate_high - config.margin_rate_low
    position = ONE if span == 0 else (rate - config.margin_rate_low) / span
    position = min(ONE, max(ZERO, position))
    return config.high_value_min + (config.high_value_max - config.high_value_min) * position


def _uncapped(
    price: Decimal, cost: Decimal, route: Route, severity: str, config: BargainConfig
) -> Tuple[Decimal, Decimal, bool]:
    """(opening, ceiling, high_value) before the margin floor.

    The opening always sits in the shipping band (the reason we can state first; a
    high-value item opens at its top); a high-value item's ceiling climbs from there
    towards its 20-50 元 top. Minor issues
    stop ``minor_share`` of the way up; moderate ones reach the top.
    """
    ship_low, ship_high = route_band(route, config)
    high_value = price >= config.high_value_price
    low, high = ship_low, ship_high
    if high_value:
        low, high = ship_high, max(ship_high, high_value_top(price, cost, config))
    share = ONE if severity == "moderate" else config.minor_share
    ceiling = low + (high - low) * share
    if high_value:
        ceiling = max(ceiling, config.high_value_min)
    opening = ship_low + (min(ceiling, ship_high) - ship_low) * config.opening_share
    if high_value:
        opening = ship_high  # a dear item opens at the full one-way shipping
    return opening, ceiling, high_value


def schedule(opening: Decimal, ceiling: Decimal, config: BargainConfig) -> Tuple[Decimal, ...]:
    """Whole-元 steps from opening to ceiling, one per round, never decreasing."""
    steps = list(config.concessions[: config.max_rounds])
    steps += [ONE] * (config.max_rounds - len(steps))
    steps[-1] = ONE  # the last round can always reach the ceiling
    points = [opening]
    for share in steps:
        point = _whole(opening + (ceiling - opening) * share, ROUND_HALF_UP)
        points.append(min(ceiling, max(points[-1], point)))
    return tuple(points)


def make_plan(
    price: Decimal,
    cost: Decimal,
    route: Route,
    severity: str = "minor",
    config: Optional[BargainConfig] = None,
) -> Plan:
    """Opening, ceiling and schedule for one item; ceiling 0 means no compensation (R9)."""
    config = config or BargainConfig()
    price, cost = Decimal(price), Decimal(cost)
    opening, ceiling, high_value = _uncapped(price, cost, route, severity, config)
    cap = margin_cap(price, cost, config)
    basis = Route(route).value
    if cap < ceiling:
        opening = opening * cap / ceiling if ceiling > 0 else ZERO  # keep the opening's proportion
        ceiling, basis = cap, "margin"
    ceiling = _whole(ceiling)
    opening = min(ceiling, max(config.min_offer, _whole(opening)))
    if ceiling < config.min_offer:
        return Plan(ZERO, ZERO, (ZERO,) * (config.max_rounds + 1), "none", cap, high_value)
    return Plan(opening, ceiling, schedule(opening, ceiling, config), basis, cap, high_value)
