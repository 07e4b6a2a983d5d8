"""The demo shop: sixteen orders that let anyone try every after-sales rule.

Dates are relative to the moment of seeding, so "delivered 3 days ago" holds on any day;
``python -m bot db reset-demo`` seeds again. The order numbers and phones of the first
twelve are fixed: the README, the conversation tests and outside checks use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Dict, List, Optional, Tuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.store import models as m

WAREHOUSES = {"hangzhou": ("杭州", "浙江"), "guangzhou": ("广州", "广东")}  # bot/shop.yml
# (days ago, location, courier text); shown to shoppers as location + text.
Scan = Tuple[float, str, str]


@dataclass(frozen=True)
class DemoItem:
    name: str
    category: str  # bot/shop.yml warranty key
    price: int
    cost: int
    color: Optional[str] = None
    size: Optional[str] = None
    special: str = "none"
    warranty_months: int = 0
    quantity: int = 1


@dataclass(frozen=True)
class DemoOrder:
    order_id: str
    phone: str
    customer: str
    items: Tuple[DemoItem, ...]
    dest: Tuple[str, str]  # city, province
    state: str
    paid: float  # days ago
    warehouse: str = "hangzhou"
    carrier: str = "中通快递"
    free_shipping: bool = True
    label: Optional[float] = None  # days ago; defaults to two hours before pickup
    picked: Optional[float] = None
    delivered: Optional[float] = None
    invoiced: Optional[float] = None
    scans: Tuple[Scan, ...] = field(default_factory=tuple)


It, Od = DemoItem, DemoOrder  # short names keep the table below readable
HZ, GZ, SF, YTO, YD, JT = "【杭州市】", "【广州市】", "顺丰速运", "圆通速递", "韵达快递", "极兔速递"
DEMO_ORDERS: Tuple[DemoOrder, ...] = (
    Od("1001000000000001", "13800000001", "林晓", (It("连衣裙", "apparel", 199, 96, "雾霾蓝", "M"),),
      ("上海", "上海"), "not_shipped", paid=1),
    Od("1001000000000002", "13800000002", "王磊", (It("运动鞋", "shoes", 399, 210, "黑白", "42码"),),
      ("成都", "四川"), "in_transit", paid=3, picked=2,
      scans=((2, HZ, "快件已揽收"), (1.7, HZ, "快件已到达杭州转运中心"),
             (1.6, HZ, "快件已从杭州转运中心发出，下一站成都转运中心"), (0.25, "【成都市】", "快件已到达成都转运中心"))),
    Od("1001000000000003", "13800000003", "赵敏", (It("保温杯", "homeware", 89, 40, "奶白", "500ml"),),
      ("南京", "江苏"), "label_printed", paid=4, carrier=YD, label=3.75),
    Od("1001000000000004", "13800000004", "陈静", (It("羊毛衫", "apparel", 259, 120, "米白色", "L"),),
      ("杭州", "浙江"), "delivered", paid=6, picked=5, delivered=3,
      scans=((5, HZ, "快件已揽收"), (4.6, HZ, "快件已到达杭州转运中心"), (3.2, HZ, "快件正在派送中"),
             (3, HZ, "快件已签收，签收人：本人"))),
    Od("1001000000000005", "13800000005", "刘洋", (It("牛仔裤", "apparel", 169, 75, "浅蓝", "30码"),),
      ("武汉", "湖北"), "delivered", paid=15, carrier=YTO, picked=14, delivered=12,
      scans=((14, HZ, "快件已揽收"), (13, "【武汉市】", "快件已到达武汉转运中心"),
             (12, "【武汉市】", "快件已签收，签收人：丰巢快递柜"))),
    Od("1001000000000006", "13800000006", "黄蕾",
      (It("新鲜车厘子", "food", 158, 95, size="2斤 JJ级", special="fresh"),),
      ("深圳", "广东"), "delivered", paid=2.5, warehouse="guangzhou", carrier=SF, picked=2, delivered=1,
      scans=((2, GZ, "顺丰冷运已揽收"), (1.5, "【深圳市】", "快件已到达深圳南山集散中心"),
             (1, "【深圳市】", "快件已签收，签收人：本人"))),
    Od("1001000000000007", "13800000007", "周航",
      (It("笔记本电脑", "laptop", 5999, 4450, "深空灰", "16G+512G", warranty_months=12),),
      ("北京", "北京"), "delivered", paid=13, carrier=SF, picked=12, delivered=10, invoiced=10,
      scans=((12, HZ, "顺丰速运已揽收"), (11, "【北京市】", "快件已到达北京顺义集散中心"),
             (10, "【北京市】", "快件已签收，签收人：本人"))),
    Od("1001000000000008", "13800000008", "吴芳",
      (It("电吹风", "small_appliance", 299, 150, "玫瑰金", warranty_months=12),),
      ("广州", "广东"), "delivered", paid=242, warehouse="guangzhou", picked=241, delivered=240, invoiced=240,
      scans=((241, GZ, "快件已揽收"), (240, GZ, "快件已签收，签收人：本人"))),  # about eight months ago
    Od("1001000000000009", "13800000009", "郑凯",
      (It("蓝牙耳机", "electronics", 399, 230, "白色", warranty_months=12),),
      ("西安", "陕西"), "delivered", paid=5, carrier=YTO, picked=4, delivered=2,
      scans=((4, HZ, "快件已揽收"), (3, "【西安市】", "快件已到达西安转运中心"),
             (2, "【西安市】", "快件已签收，签收人：菜鸟驿站代收"))),
    Od("1001000000000010", "13800000010", "孙倩",
      (It("移动硬盘", "storage", 459, 320, "黑色", "2TB", warranty_months=12),),
      ("苏州", "江苏"), "delivered", paid=7, picked=6, delivered=4, invoiced=4,
      scans=((6, HZ, "快件已揽收"), (5, "【苏州市】", "快件已到达苏州转运中心"), (4, "【苏州市】", "快件已签收，签收人：本人"))),
    Od("1001000000000011", "13800000011", "何雪", (It("羊绒大衣", "apparel", 899, 420, "驼色", "M"),),
      ("杭州", "浙江"), "delivered", paid=4, carrier=SF, picked=3, delivered=2,
      scans=((3, HZ, "顺丰速运已揽收"), (2.2, HZ, "快件正在派送中"), (2, HZ, "快件已签收，签收人：本人"))),
    Od("1001000000000012", "13800000012", "马超", (It("T恤", "apparel", 59, 26, "白色", "XL"),),
      ("哈尔滨", "黑龙江"), "in_transit", paid=2, free_shipping=False, picked=1,
      scans=((1, HZ, "快件已揽收"), (0.8, HZ, "快件已到达杭州转运中心"), (0.15, "【济南市】", "快件已到达济南转运中心"))),
    # Beyond the required twelve: several items, a second order on one phone, an open case, another city.
    Od("1001000000000013", "13800000013", "高远",
      (It("羽绒服", "apparel", 699, 330, "藏青", "XL"), It("围巾", "apparel", 99, 40, "酒红"),
       It("毛线帽", "apparel", 59, 24, "灰色")),
      ("广州", "广东"), "delivered", paid=4, warehouse="guangzhou", picked=3, delivered=2,
      scans=((3, GZ, "快件已揽收"), (2.3, GZ, "快件正在派送中"), (2, GZ, "快件已签收，签收人：前台代收"))),
    Od("1001000000000014", "13800000013", "高远",
      (It("加湿器", "small_appliance", 199, 90, "白色", "4L", warranty_months=12),),
      ("广州", "广东"), "not_shipped", paid=0.5, warehouse="guangzhou"),
    Od("1001000000000015", "13800000015", "许诺", (It("真丝衬衫", "apparel", 359, 160, "香槟色", "S"),),
      ("重庆", "重庆"), "delivered", paid=6, picked=5, delivered=3,
      scans=((5, HZ, "快件已揽收"), (4, "【重庆市】", "快件已到达重庆转运中心"), (3, "【重庆市】", "快件已签收，签收人：本人"))),
    Od("1001000000000016", "13800000016", "谢婷",
      (It("纯棉四件套", "homeware", 329, 150, "燕麦色", "1.8米"),
       It("记忆棉枕", "homeware", 129, 60, "白色", quantity=2)),
      ("厦门", "福建"), "in_transit", paid=2, warehouse="guangzhou", carrier=JT, picked=1.5,
      scans=((1.5, GZ, "快件已揽收"), (1.2, GZ, "快件已从广州转运中心发出，下一站厦门转运中心"))),
    # R5: the shopper refused the parcel and it is on its way back
    Od("1001000000000017", "13800000017", "冯悦", (It("帆布包", "apparel", 129, 55, "米色"),),
      ("宁波", "浙江"), "refused", paid=5, picked=4,
      scans=((4, HZ, "快件已揽收"), (2, "【宁波市】", "派送中"), (1.5, "【宁波市】", "收件人拒收，快件退回中"))),
    # R11: the courier has confirmed the parcel lost
    Od("1001000000000018", "13800000018", "邓琳", (It("电热水壶", "small_appliance", 149, 70, "白色"),),
      ("合肥", "安徽"), "lost", paid=6, picked=5,
      scans=((5, HZ, "快件已揽收"), (4, "【南京市】", "快件已到达南京转运中心"), (1, "【南京市】", "快件遗失，已登记理赔"))),
)  # fmt: skip
DEMO_ORDER_IDS = frozenset(o.order_id for o in DEMO_ORDERS)
_PREFIX = {SF: "SF", YTO: "YT", JT: "JT", YD: "43", "中通快递": "78"}


def _tracking_no(carrier: str, order_id: str) -> str:
    """A number shaped like the carrier's own (SF + 13 digits, 78 + 13 digits for 中通 ...)."""
    return _PREFIX.get(carrier, "") + str(int(order_id) * 7919 % 10**13).zfill(13)


def _contract_rate(carrier: str, origin: Tuple[str, str], dest: Tuple[str, str]) -> Decimal:
    """What the courier charges the shop (R12 deducts this, not the list price)."""
    base = 5 if origin == dest else 6 if origin[1] == dest[1] else 8
    return Decimal(base + (10 if carrier == SF else 0))


def _item_row(o: DemoOrder, n: int, i: DemoItem, ago) -> m.ItemRow:
    return m.ItemRow(
        sku=f"XH{o.order_id[-4:]}{n:02d}",
        name=i.name,
        category=i.category,
        price=Decimal(i.price),
        cost=Decimal(i.cost),
        quantity=i.quantity,
        color=i.color,
        size=i.size,
        special=i.special,
        warranty_months=i.warranty_months,
        invoice_date=ago(o.invoiced),
        manufacture_date=ago(o.paid + 75) if i.warranty_months else None,
    )


def _shipment_row(o: DemoOrder, ago) -> m.ShipmentRow:
    origin = WAREHOUSES[o.warehouse]
    label = o.label if o.label is not None else (o.picked + 2 / 24 if o.picked is not None else None)
    shipment = m.ShipmentRow(
        carrier=o.carrier,
        state=o.state,
        origin_city=origin[0],
        origin_province=origin[1],
        dest_city=o.dest[0],
        dest_province=o.dest[1],
        label_printed_at=ago(label),
        tracking_no=_tracking_no(o.carrier, o.order_id) if label is not None else None,
        picked_up_at=ago(o.picked),
        delivered_at=ago(o.delivered),
    )
    shipment.events = [
        m.TrackingEventRow(at=ago(d), location=place, description=text) for d, place, text in o.scans
    ]
    return shipment


def _order_row(o: DemoOrder, now: datetime, customer_id: int) -> m.OrderRow:
    def ago(days: Optional[float]) -> Optional[datetime]:
        return now - timedelta(days=days) if days is not None else None

    rate = _contract_rate(o.carrier, WAREHOUSES[o.warehouse], o.dest)
    order = m.OrderRow(
        order_id=o.order_id,
        customer_id=customer_id,
        phone=o.phone,
        paid_at=ago(o.paid),
        free_shipping=o.free_shipping,
        shipping_fee=Decimal(0 if o.free_shipping else 10),
        shipping_cost=rate,
        warehouse=o.warehouse,
    )
    order.items = [_item_row(o, n, i, ago) for n, i in enumerate(o.items, start=1)]
    order.shipment = _shipment_row(o, ago)
    return order


def _open_demo_case(session: Session, now: datetime) -> None:
    """1001000000000015 is already mid-return, so "continue my case" and handoffs have history."""
    session.add(
        m.CaseRow(
            order_id="1001000000000015",
            kind="return",
            rule="R6",
            status="waiting_return",
            opened_at=now - timedelta(days=1),
            conversation_id="demo-earlier",
            note="七天无理由退货：已同意，等待买家寄回并提供退货单号",
            detail={"reason": "尺码偏小"},
        )
    )


def seed_demo(session_factory: sessionmaker, now: Optional[datetime] = None) -> bool:
    """Seed the demo shop if there are no orders yet (never touches a shop that has data).

    Returns True when it seeded. ``now`` is naive UTC; the demo's dates count back from it.
    """
    now = (now or datetime.utcnow()).replace(microsecond=0)
    with session_factory.begin() as session:
        if session.execute(select(func.count()).select_from(m.OrderRow)).scalar():
            return False
        customers: Dict[str, m.Customer] = {}
        for o in DEMO_ORDERS:
            if o.phone not in customers:
                customers[o.phone] = m.Customer(name=o.customer, phone=o.phone)
                session.add(customers[o.phone])
                session.flush()
            session.add(_order_row(o, now, customers[o.phone].id))
        session.flush()
        _open_demo_case(session, now)
    return True


# Children first, so no foreign key ever points at a deleted row.
WIPED: List[type] = [
    m.RatingRow, m.HandoffRow, m.FollowUpRow, m.RefundRow, m.OfferRow, m.EvidenceRow, m.CaseRow,
    m.TrackingEventRow, m.ShipmentRow, m.ItemRow, m.OrderRow, m.Customer,
]  # fmt: skip


def foreign_orders(session_factory: sessionmaker) -> int:
    """How many orders are not demo orders: a real shop's data that reset_demo must not wipe."""
    query = select(func.count()).select_from(m.OrderRow).where(m.OrderRow.order_id.not_in(DEMO_ORDER_IDS))
    with session_factory() as session:
        return int(session.execute(query).scalar() or 0)


def reset_demo(session_factory: sessionmaker, now: Optional[datetime] = None, force: bool = False) -> None:
    """Wipe orders, cases, offers, refunds, evidence rows, follow-ups, handoffs and ratings; seed again.

    Refuses (RuntimeError) when the database holds orders that are not the demo's, unless
    ``force``: pointing DATABASE_URL at a real shop must not cost it its data.
    Uploaded files stay on disk; only their rows go.
    """
    if not force and foreign_orders(session_factory):
        raise RuntimeError("the database holds orders that are not demo orders; not wiping it")
    with session_factory.begin() as session:
        for model in WIPED:
            session.execute(delete(model))
    seed_demo(session_factory, now)
