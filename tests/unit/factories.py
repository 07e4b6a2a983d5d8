"""Small builders for orders in every shipping state, with times relative to NOW.

Each builder fills only what a rule reads; a test names the one figure it is about
(``delivered=timedelta(days=7)``: delivered seven days before NOW).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Iterable, Optional

from bot.domain import Item, Order, Shipment, ShipState, SpecialGoods, TrackingEvent
from bot.settings import Settings, load_settings

NOW = datetime(2026, 6, 1, 12, 0, 0)  # naive UTC, like the store and the action runtime
D = Decimal
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
SHOP = load_settings()  # the real bot/shop.yml


def settings(**returns_or_logistics: object) -> Settings:
    """The real settings with a few returns:/logistics: figures changed."""
    returns = {k: v for k, v in returns_or_logistics.items() if hasattr(SHOP.returns, k)}
    logistics = {k: v for k, v in returns_or_logistics.items() if hasattr(SHOP.logistics, k)}
    return replace(
        SHOP, returns=replace(SHOP.returns, **returns), logistics=replace(SHOP.logistics, **logistics)
    )


def item(
    name: str = "羊毛衫",
    category: str = "apparel",
    price: str = "259",
    special: SpecialGoods = SpecialGoods.NONE,
    sku: str = "SKU-1",
    quantity: int = 1,
    warranty_months: int = 0,
    invoice: Optional[timedelta] = None,
    made: Optional[timedelta] = None,
) -> Item:
    """One item; ``invoice`` / ``made`` are how long before NOW the invoice / manufacture date lie."""
    return Item(
        sku=sku,
        name=name,
        category=category,
        price=D(price),
        cost=D(price) / 2,
        quantity=quantity,
        special=special,
        warranty_months=warranty_months,
        invoice_date=NOW - invoice if invoice is not None else None,
        manufacture_date=NOW - made if made is not None else None,
    )


def laptop(**kw: object) -> Item:
    return item(name="笔记本电脑", category="laptop", price="5999", warranty_months=12, **kw)


def hard_disk(**kw: object) -> Item:
    return item(name="移动硬盘", category="storage", price="459", warranty_months=12, **kw)


def hair_dryer(**kw: object) -> Item:
    return item(name="电吹风", category="small_appliance", price="299", warranty_months=12, **kw)


def earphones(**kw: object) -> Item:
    return item(name="蓝牙耳机", category="electronics", price="399", warranty_months=12, **kw)


def order(
    state: ShipState = ShipState.DELIVERED,
    items: Iterable[Item] = (),
    *,
    free_shipping: bool = True,
    shipping_fee: str = "0",
    shipping_cost: str = "8",
    warehouse: str = "hangzhou",
    label: Optional[timedelta] = None,
    picked: Optional[timedelta] = None,
    delivered: Optional[timedelta] = None,
    last_scan: Optional[timedelta] = None,
) -> Order:
    """An order in ``state``; each timedelta is how long before NOW that event happened.

    Defaults follow the state: in transit = picked up a day ago with a scan two hours ago;
    delivered = two days ago.
    """
    chosen = tuple(items) or (item(),)
    events = []
    if state is ShipState.IN_TRANSIT:
        scan_ago = last_scan if last_scan is not None else 2 * HOUR
        picked = picked if picked is not None else max(DAY, scan_ago + HOUR)
        events = [
            TrackingEvent(NOW - picked, "【杭州市】", "快件已揽收"),
            TrackingEvent(NOW - scan_ago, "【济南市】", "快件已到达济南转运中心"),
        ]
    if state is ShipState.LABEL_PRINTED and last_scan is not None:
        events = [TrackingEvent(NOW - last_scan, "【杭州市】", "快件已到达杭州转运中心")]
    if state is ShipState.DELIVERED:
        delivered = delivered if delivered is not None else 2 * DAY
        events = [TrackingEvent(NOW - delivered, "【杭州市】", "快件已签收，签收人：本人")]
    if state is ShipState.REFUSED:
        events = [TrackingEvent(NOW - HOUR, "【杭州市】", "买家拒收，快件退回中")]
    shipment = Shipment(
        carrier="中通快递",
        tracking_no=None if state in (ShipState.NOT_SHIPPED, ShipState.LABEL_PRINTED) else "78000000000001",
        state=state,
        origin_city="杭州",
        origin_province="浙江",
        dest_city="南京",
        dest_province="江苏",
        label_printed_at=NOW - label if label is not None else None,
        picked_up_at=NOW - picked if picked is not None else None,
        delivered_at=NOW - delivered if delivered is not None else None,
        events=events,
    )
    return Order(
        order_id="1001000000009999",
        phone="13800009999",
        paid_at=NOW - 10 * DAY if state is not ShipState.NOT_SHIPPED else NOW - 5 * HOUR,
        free_shipping=free_shipping,
        shipping_fee=D(shipping_fee),
        shipping_cost=D(shipping_cost),
        warehouse=warehouse,
        items=list(chosen),
        shipment=shipment,
    )


def paid_shipping(state: ShipState, **kw: object) -> Order:
    """A non-free-shipping order: the shopper paid 12 元, the courier charges the shop 8 元."""
    return order(state, free_shipping=False, shipping_fee="12", shipping_cost="8", **kw)
