"""The demo shop: orders that let anyone try every after-sales rule.

Dates are relative to the moment of seeding; ``make demo-reset`` seeds again so the
relative dates hold on any day. Order numbers and phones of the first twelve are fixed
(the README and outside checks use them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import List, Optional, Tuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import sessionmaker

from bot.store import models as m

HANGZHOU = ("hangzhou", "杭州", "浙江")
GUANGZHOU = ("guangzhou", "广州", "广东")


@dataclass
class DemoItem:
    name: str
    category: str
    price: int
    cost: int
    color: Optional[str] = None
    size: Optional[str] = None
    special: str = "none"
    warranty_months: int = 0
    quantity: int = 1


@dataclass
class DemoOrder:
    order_id: str
    phone: str
    customer: str
    items: List[DemoItem]
    paid_days_ago: float
    state: str
    dest: Tuple[str, str]
    warehouse: Tuple[str, str, str] = HANGZHOU
    carrier: str = "中通快递"
    free_shipping: bool = True
    label_hours_ago: Optional[float] = None
    picked_up_days_ago: Optional[float] = None
    delivered_days_ago: Optional[float] = None
    invoiced_days_ago: Optional[float] = None
    scans: List[Tuple[float, str, str]] = field(default_factory=list)  # (hours ago, place, text)


def _orders() -> List[DemoOrder]:
    D = DemoItem
    return [
        DemoOrder("1001000000000001", "13800000001", "林晓", [D("连衣裙", "apparel", 199, 96, "雾霾蓝", "M")],
                  1, "not_shipped", ("上海", "上海")),
        DemoOrder("1001000000000002", "13800000002", "王磊", [D("运动鞋", "shoes", 399, 210, "黑白", "42码")],
                  3, "in_transit", ("成都", "四川"), picked_up_days_ago=2,
                  scans=[(48, "【杭州市】", "快件已揽收"), (30, "【杭州市】", "已发往成都转运中心"),
                         (5, "【成都市】", "快件已到达成都转运中心")]),
        DemoOrder("1001000000000003", "13800000003", "赵敏", [D("保温杯", "homeware", 89, 40, "奶白")],
                  4, "label_printed", ("南京", "江苏"), carrier="韵达快递", label_hours_ago=90),
        DemoOrder("1001000000000004", "13800000004", "陈静", [D("羊毛衫", "apparel", 259, 120, "米白色", "L")],
                  6, "delivered", ("杭州", "浙江"), picked_up_days_ago=5, delivered_days_ago=3,
                  scans=[(120, "【杭州市】", "快件已揽收"), (72, "【杭州市】", "已签收，签收人：本人")]),
        DemoOrder("1001000000000005", "13800000005", "刘洋", [D("牛仔裤", "apparel", 169, 75, "浅蓝", "30")],
                  15, "delivered", ("武汉", "湖北"), picked_up_days_ago=14, delivered_days_ago=12,
                  scans=[(336, "【杭州市】", "快件已揽收"), (288, "【武汉市】", "已签收，签收人：快递柜")]),
        DemoOrder("1001000000000006", "13800000006", "黄蕾", [D("新鲜车厘子", "food", 158, 95, special="fresh")],
                  3, "delivered", ("深圳", "广东"), warehouse=GUANGZHOU, carrier="顺丰速运",
                  picked_up_days_ago=2, delivered_days_ago=1,
                  scans=[(48, "【广州市】", "快件已揽收"), (24, "【深圳市】", "已签收，签收人：本人")]),
        DemoOrder("1001000000000007", "13800000007", "周航", [D("笔记本电脑", "laptop", 5999, 4500, "深空灰",
                                                              warranty_months=12)],
                  13, "delivered", ("北京", "北京"), carrier="顺丰速运", picked_up_days_ago=12,
                  delivered_days_ago=10, invoiced_days_ago=10,
                  scans=[(288, "【杭州市】", "快件已揽收"), (240, "【北京市】", "已签收，签收人：本人")]),
        DemoOrder("1001000000000008", "13800000008", "吴芳", [D("电吹风", "small_appliance", 299, 150, "玫瑰金",
                                                              warranty_months=12)],
                  245, "delivered", ("广州", "广东"), warehouse=GUANGZHOU, picked_up_days_ago=244,
                  delivered_days_ago=242, invoiced_days_ago=240,
                  scans=[(5856, "【广州市】", "快件已揽收"), (5808, "【广州市】", "已签收，签收人：本人")]),
        DemoOrder("1001000000000009", "13800000009", "郑凯", [D("蓝牙耳机", "electronics", 399, 230, "白色",
                                                              warranty_months=12)],
                  5, "delivered", ("西安", "陕西"), carrier="圆通速递", picked_up_days_ago=4, delivered_days_ago=2,
                  scans=[(96, "【杭州市】", "快件已揽收"), (48, "【西安市】", "已签收，签收人：驿站代收")]),
        DemoOrder("1001000000000010", "13800000010", "孙倩", [D("移动硬盘", "storage", 459, 320, "黑色",
                                                              warranty_months=12)],
                  7, "delivered", ("苏州", "江苏"), picked_up_days_ago=6, delivered_days_ago=4, invoiced_days_ago=4,
                  scans=[(144, "【杭州市】", "快件已揽收"), (96, "【苏州市】", "已签收，签收人：本人")]),
        DemoOrder("1001000000000011", "13800000011", "何雪", [D("羊绒大衣", "apparel", 899, 420, "驼色", "M")],
                  5, "delivered", ("杭州", "浙江"), carrier="顺丰速运", picked_up_days_ago=3, delivered_days_ago=2,
                  scans=[(72, "【杭州市】", "快件已揽收"), (48, "【杭州市】", "已签收，签收人：本人")]),
        DemoOrder("1001000000000012", "13800000012", "马超", [D("T恤", "apparel", 59, 22, "白色", "XL")],
                  2, "in_transit", ("哈尔滨", "黑龙江"), free_shipping=False, picked_up_days_ago=1,
                  scans=[(24, "【杭州市】", "快件已揽收"), (6, "【济南市】", "快件已到达济南转运中心")]),
        # beyond the required twelve: one phone with two orders, several items, another city
        DemoOrder("1001000000000013", "13800000013", "高远", [D("羽绒服", "apparel", 699, 330, "藏青", "XL"),
                                                             D("围巾", "apparel", 99, 40, "酒红")],
                  4, "delivered", ("广州", "广东"), warehouse=GUANGZHOU, picked_up_days_ago=3,
                  delivered_days_ago=2, scans=[(72, "【广州市】", "快件已揽收"), (48, "【广州市】", "已签收")]),
        DemoOrder("1001000000000014", "13800000013", "高远", [D("加湿器", "small_appliance", 199, 90, "白色",
                                                             warranty_months=12)],
                  1, "not_shipped", ("广州", "广东"), warehouse=GUANGZHOU),
        DemoOrder("1001000000000015", "13800000015", "许诺", [D("真丝衬衫", "apparel", 359, 160, "香槟色", "S")],
                  6, "delivered", ("重庆", "重庆"), picked_up_days_ago=5, delivered_days_ago=3,
                  scans=[(120, "【杭州市】", "快件已揽收"), (72, "【重庆市】", "已签收，签收人：本人")]),
    ]


def _rows(o: DemoOrder, now: datetime, customer_id: int) -> m.OrderRow:
    ago = lambda days: now - timedelta(days=days) if days is not None else None  # noqa: E731
    warehouse, origin_city, origin_province = o.warehouse
    order = m.OrderRow(order_id=o.order_id, customer_id=customer_id, phone=o.phone, paid_at=ago(o.paid_days_ago),
                       free_shipping=o.free_shipping, shipping_fee=Decimal(0 if o.free_shipping else 10),
                       shipping_cost=Decimal(6 if o.dest[1] == origin_province else 9), warehouse=warehouse)
    for n, i in enumerate(o.items):
        invoice = ago(o.invoiced_days_ago)
        order.items.append(m.ItemRow(
            sku=f"SKU{o.order_id[-4:]}{n}", name=i.name, category=i.category, price=Decimal(i.price),
            cost=Decimal(i.cost), quantity=i.quantity, color=i.color, size=i.size, special=i.special,
            warranty_months=i.warranty_months, invoice_date=invoice,
            manufacture_date=ago((o.paid_days_ago or 0) + 60) if i.warranty_months else None))
    label = now - timedelta(hours=o.label_hours_ago) if o.label_hours_ago else ago(o.picked_up_days_ago)
    shipment = m.ShipmentRow(
        carrier=o.carrier, state=o.state, origin_city=origin_city, origin_province=origin_province,
        dest_city=o.dest[0], dest_province=o.dest[1], label_printed_at=label,
        tracking_no=None if o.state == "not_shipped" else f"{'SF' if '顺丰' in o.carrier else 'ZT'}{o.order_id[-10:]}",
        picked_up_at=ago(o.picked_up_days_ago), delivered_at=ago(o.delivered_days_ago))
    for hours, place, text in o.scans:
        shipment.events.append(m.TrackingEventRow(at=now - timedelta(hours=hours), location=place, description=text))
    order.shipment = shipment
    return order


def seed_demo(sessions: sessionmaker, now: Optional[datetime] = None) -> bool:
    """Seed the demo shop if there are no orders yet. Returns True when it seeded."""
    now = now or datetime.utcnow()
    with sessions.begin() as s:
        if s.execute(select(func.count()).select_from(m.OrderRow)).scalar():
            return False
        customers = {}
        for o in _orders():
            if o.phone not in customers:
                customer = m.Customer(name=o.customer, phone=o.phone)
                s.add(customer)
                s.flush()
                customers[o.phone] = customer.id
            s.add(_rows(o, now, customers[o.phone]))
        s.flush()
        # one order already in an after-sales case: a return waiting for the parcel
        s.add(m.CaseRow(order_id="1001000000000015", kind="return", rule="R6", status="waiting_return",
                        opened_at=now - timedelta(days=1), conversation_id="demo-earlier",
                        note="七天无理由退货，等待买家寄回"))
    return True


def reset_demo(sessions: sessionmaker, now: Optional[datetime] = None) -> None:
    """Wipe the demo shop's orders, cases and conversation records, then seed again."""
    tables = [m.RatingRow, m.HandoffRow, m.FollowUpRow, m.RefundRow, m.OfferRow, m.EvidenceRow, m.CaseRow,
              m.TrackingEventRow, m.ShipmentRow, m.ItemRow, m.OrderRow, m.Customer]
    with sessions.begin() as s:
        for table in tables:
            s.execute(delete(table))
    seed_demo(sessions, now)
