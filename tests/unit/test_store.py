"""The order store against real databases: migrations, demo data, ownership, idempotent refunds."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import inspect

from bot import cli
from bot.domain import ShipState, SpecialGoods
from bot.store.repository import OrderRepository
from bot.store.seed import reset_demo
from tests.conftest import NOW

REQUIRED = {
    # order_id: (phone, item, price, state)
    "1001000000000001": ("13800000001", "连衣裙", 199, ShipState.NOT_SHIPPED),
    "1001000000000002": ("13800000002", "运动鞋", 399, ShipState.IN_TRANSIT),
    "1001000000000003": ("13800000003", "保温杯", 89, ShipState.LABEL_PRINTED),
    "1001000000000004": ("13800000004", "羊毛衫", 259, ShipState.DELIVERED),
    "1001000000000005": ("13800000005", "牛仔裤", 169, ShipState.DELIVERED),
    "1001000000000006": ("13800000006", "新鲜车厘子", 158, ShipState.DELIVERED),
    "1001000000000007": ("13800000007", "笔记本电脑", 5999, ShipState.DELIVERED),
    "1001000000000008": ("13800000008", "电吹风", 299, ShipState.DELIVERED),
    "1001000000000009": ("13800000009", "蓝牙耳机", 399, ShipState.DELIVERED),
    "1001000000000010": ("13800000010", "移动硬盘", 459, ShipState.DELIVERED),
    "1001000000000011": ("13800000011", "羊绒大衣", 899, ShipState.DELIVERED),
    "1001000000000012": ("13800000012", "T恤", 59, ShipState.IN_TRANSIT),
}


def test_migrations_create_every_table(engine):
    tables = set(inspect(engine).get_table_names())
    assert {"orders", "order_items", "shipments", "tracking_events", "after_sales_cases", "evidence",
            "compensation_offers", "refunds", "follow_ups", "handoffs", "ratings", "customers"} <= tables


@pytest.mark.parametrize("order_id", sorted(REQUIRED))
def test_required_demo_orders(repo, order_id):
    phone, item, price, state = REQUIRED[order_id]
    order = repo.get_order(order_id)
    assert order.phone == phone
    assert order.items[0].name == item and order.items[0].price == Decimal(price)
    assert order.shipment.state == state
    assert order.items[0].cost < order.items[0].price


def test_demo_dates_are_relative_to_seeding(repo):
    delivered = lambda oid: NOW - repo.get_order(oid).shipment.delivered_at  # noqa: E731
    assert delivered("1001000000000004") == timedelta(days=3)
    assert delivered("1001000000000005") == timedelta(days=12)
    assert delivered("1001000000000006") == timedelta(days=1)
    label = repo.get_order("1001000000000003").shipment
    assert label.picked_up_at is None and NOW - label.label_printed_at > timedelta(hours=72)
    assert repo.get_order("1001000000000006").items[0].special == SpecialGoods.FRESH
    assert repo.get_order("1001000000000012").free_shipping is False
    assert NOW - repo.get_order("1001000000000008").items[0].invoice_date > timedelta(days=210)


@pytest.mark.parametrize(
    "proof, ok",
    [("0004", True), ("13800000004", True), ("138 0000 0004", True), ("0005", False), ("13800000005", False),
     ("", False), ("004", False), ("'; DROP TABLE orders;--", False)],
)
def test_verify_owner(repo, proof, ok):
    assert repo.verify_owner("1001000000000004", proof) is ok


def test_unknown_order(repo):
    assert repo.get_order("9999999999999999") is None
    assert repo.verify_owner("9999999999999999", "0004") is False


def test_orders_for_phone_recent_first(repo):
    orders = repo.orders_for_phone("13800000013")
    assert [o.order_id for o in orders] == ["1001000000000014", "1001000000000013"]
    assert len(orders[1].items) == 2
    assert repo.orders_for_phone("13900000000") == []


def test_case_lifecycle(repo):
    case = repo.open_case("1001000000000004", "color_mismatch", "R10", "conv-1", status="waiting_evidence")
    assert case.status == "waiting_evidence" and case.closed_at is None
    closed = repo.update_case(case.case_id, status="closed", refund_amount=Decimal("15"), close=True)
    assert closed.closed_at == NOW and closed.refund_amount == Decimal("15")
    assert repo.open_case_for("1001000000000004", "color_mismatch") is None
    assert [c.kind for c in repo.cases_for_order("1001000000000004")] == ["color_mismatch"]


def test_refund_is_idempotent_across_repositories(repo, sessions):
    case = repo.open_case("1001000000000011", "compensation", "R9", "conv-2")
    first = repo.create_refund(case.case_id, Decimal("30"), "neg-abc:accepted")
    again = OrderRepository(sessions).create_refund(case.case_id, Decimal("30"), "neg-abc:accepted")
    assert first[1] is True and again == (first[0], False)
    assert repo.refunds_for_case(case.case_id) == [Decimal("30")]


def test_follow_ups_come_due(repo):
    case = repo.open_case("1001000000000003", "delay", "R4", "conv-3")
    repo.add_follow_up(case.case_id, "conv-3", "24 小时内回复揽件进度", NOW + timedelta(hours=24))
    assert repo.due_follow_ups(NOW) == []
    assert [f["case_id"] for f in repo.due_follow_ups(NOW + timedelta(hours=24))] == [case.case_id]


def test_rating_bounds(repo):
    assert repo.save_rating("conv-4", 5, "很好")
    with pytest.raises(ValueError):
        repo.save_rating("conv-4", 6)


def test_reset_demo_wipes_cases(repo, sessions):
    repo.open_case("1001000000000004", "return", "R6", "conv-5")
    reset_demo(sessions, NOW)
    kinds = [c.kind for c in repo.cases_for_order("1001000000000004")]
    assert kinds == []
    assert repo.get_order("1001000000000001") is not None


def test_cli_prints_cases_as_json(repo, engine, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    repo.open_case("1001000000000005", "return", "R6", "conv-6", note="超过七天")
    assert cli.main(["cases", "--order", "1001000000000005"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[-1]["kind"] == "return" and rows[-1]["rule"] == "R6" and rows[-1]["refund_amount"] is None
    assert cli.main(["cases", "--order", "0000000000000000"]) == 0
    assert json.loads(capsys.readouterr().out) == []
