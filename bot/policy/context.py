"""One case as the rules see it: the order, what was asked, the answers so far, and "now"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional, Tuple, Union

from bot.domain import Item, Order, Shipment, ShipState, SpecialGoods
from bot.policy.model import Action, Decision, Request
from bot.settings import Settings, Warehouse, WarrantyTerms

# What a caller may say about the fault (R13 hard disks, R8 missing items).
FAULTS = frozenset({"performance", "cannot_format", "noise", "missing"})
PERFORMANCE_FAULTS = frozenset({"performance", "cannot_format"})
SPECIAL_NAMES = {
    SpecialGoods.FRESH: "生鲜水果",
    SpecialGoods.VIRTUAL: "虚拟商品",
    SpecialGoods.CUSTOM: "定制商品",
}


@dataclass(frozen=True)
class Context:
    order: Order
    request: Request
    now: datetime
    settings: Settings
    items: Tuple[Item, ...]  # the items the request is about (one if a SKU was named)
    still_wants_item: Optional[bool] = None
    has_evidence: bool = False
    fault: Optional[str] = None

    @classmethod
    def build(
        cls,
        order: Order,
        request: Union[Request, str],
        now: datetime,
        settings: Settings,
        *,
        item_sku: Optional[str],
        **answers: Any,
    ) -> "Context":
        """Check the inputs once, so the rules can trust them."""
        fault = answers.get("fault")
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {sorted(FAULTS)}")
        return cls(order, Request(request), now, settings, _pick_items(order, item_sku), **answers)

    @property
    def ship(self) -> Shipment:
        return self.order.shipment

    @property
    def state(self) -> ShipState:
        return self.order.shipment.state

    @property
    def warehouse(self) -> Warehouse:
        return self.settings.warehouse(self.order.warehouse)

    @property
    def names(self) -> str:
        """The items in words: 「连衣裙」, 「羽绒服、围巾」."""
        return "、".join(i.name for i in self.items)

    def goods_value(self, items: Optional[Tuple[Item, ...]] = None) -> Decimal:
        """What the shopper paid for these items (shipping not included)."""
        chosen = self.items if items is None else items
        return sum((i.price * i.quantity for i in chosen), Decimal("0"))

    def terms_for(self, item: Item) -> Optional[WarrantyTerms]:
        """R13 terms: the category's, with the item's own months when it states them; None if none."""
        terms = self.settings.warranty_for(item.category)
        months = item.warranty_months or (terms.months if terms else 0)
        if months <= 0:
            return None
        if terms is None:
            return WarrantyTerms(months=months)
        return WarrantyTerms(months, terms.replace_not_repair, terms.manufacturer_after)

    def decision(self, action: Action, rule: str, reason: str, **extra: Any) -> Decision:
        return Decision(action=action, rule=rule, reason=reason, **extra)

    def ask_evidence(self, rule: str, reason: str, **extra: Any) -> Decision:
        """R16: ask for proof instead of refusing, and promise (and record) a reminder."""
        hours = self.settings.returns.evidence_reminder_hours
        reason += f"暂时不方便拍的话也没关系，我 {hours} 小时后再来提醒您。"
        return self.decision(
            Action.ASK_EVIDENCE, rule, reason, needs_evidence=True, follow_up_hours=hours, **extra
        )


def _pick_items(order: Order, item_sku: Optional[str]) -> Tuple[Item, ...]:
    if not order.items:
        raise ValueError(f"order {order.order_id} has no items")
    if item_sku is None:
        return tuple(order.items)
    chosen = tuple(i for i in order.items if i.sku == item_sku)
    if not chosen:
        raise ValueError(f"order {order.order_id} has no item {item_sku!r}")
    return chosen
