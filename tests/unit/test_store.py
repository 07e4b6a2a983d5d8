"""The order store against real databases: migrations, demo data, ownership, cases, idempotent refunds.

Every test that takes ``engine``, ``session_factory`` or ``repo`` runs on SQLite and, when
TEST_DATABASE_URL is set, on PostgreSQL too (see tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from bot import cli
from bot.domain import ShipState, SpecialGoods
from bot.store import db
from bot.store import models as m
from bot.store.repository import OrderRepository
from bot.store.seed import DEMO_ORDER_IDS, reset_demo, seed_demo
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]
SHOP = yaml.safe_load((ROOT / "bot" / "shop.yml").read_text(encoding="utf-8"))
TABLES = {
    "customers", "orders", "order_items", "shipments", "tracking_events", "after_sales_cases", "evidence",
    "compensation_offers", "refunds", "follow_ups", "handoffs", "ratings", "proof_failures",
    "handoff_states", "console_users", "console_sessions", "console_messages", "canned_replies",
    "trainer_flags", "trainer_items",
}  # fmt: skip
D = timedelta(days=1)
NS, LP, IT, DL = ShipState.NOT_SHIPPED, ShipState.LABEL_PRINTED, ShipState.IN_TRANSIT, ShipState.DELIVERED

# order_id: phone, first item, price, category, state, {date field: days before NOW}
REQUIRED = {
    "1001000000000001": ("13800000001", "连衣裙", 199, "apparel", NS, {"paid_at": 1}),
    "1001000000000002": ("13800000002", "运动鞋", 399, "shoes", IT, {"picked_up_at": 2}),
    "1001000000000003": ("13800000003", "保温杯", 89, "homeware", LP, {"paid_at": 4}),
    "1001000000000004": ("13800000004", "羊毛衫", 259, "apparel", DL, {"delivered_at": 3}),
    "1001000000000005": ("13800000005", "牛仔裤", 169, "apparel", DL, {"delivered_at": 12}),
    "1001000000000006": ("13800000006", "新鲜车厘子", 158, "food", DL, {"delivered_at": 1}),
    "1001000000000007": ("13800000007", "笔记本电脑", 5999, "laptop", DL, {"delivered_at": 10, "invoice_date": 10}),
    "1001000000000008": ("13800000008", "电吹风", 299, "small_appliance", DL, {"delivered_at": 240, "invoice_date": 240}),
    "1001000000000009": ("13800000009", "蓝牙耳机", 399, "electronics", DL, {"delivered_at": 2}),
    "1001000000000010": ("13800000010", "移动硬盘", 459, "storage", DL, {"delivered_at": 4}),
    "1001000000000011": ("13800000011", "羊绒大衣", 899, "apparel", DL, {"delivered_at": 2}),
    "1001000000000012": ("13800000012", "T恤", 59, "apparel", IT, {"picked_up_at": 1}),
}  # fmt: skip


def _date(order, name: str) -> datetime:
    """A date field wherever it lives: order, shipment, or first item."""
    for holder in (order, order.shipment, order.items[0]):
        if hasattr(holder, name):
            return getattr(holder, name)
    raise AttributeError(name)


# ---- migrations -------------------------------------------------------------------------


def test_migrations_create_every_table(engine):
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    with engine.connect() as conn:
        head = ScriptDirectory.from_config(db.alembic_config()).get_current_head()
        assert MigrationContext.configure(conn).get_current_revision() == head


def test_migration_matches_the_models(engine):
    """The hand-written migration and the models describe the same schema."""
    with engine.connect() as conn:
        assert (
            compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), m.Base.metadata)
            == []
        )
    names = {c["name"] for c in inspect(engine).get_unique_constraints("refunds")}
    assert "uq_refunds_key" in names


def test_downgrade_and_upgrade_again(engine):
    from alembic import command

    with engine.begin() as conn:
        config = db.alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    db.upgrade_to_head(engine)
    assert TABLES <= set(inspect(engine).get_table_names())


def test_upgrade_from_a_url_in_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db.upgrade_to_head(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    db.upgrade_to_head(f"sqlite:///{tmp_path / 'elsewhere.db'}")  # idempotent
    assert TABLES <= set(inspect(db.make_engine(f"sqlite:///{tmp_path / 'elsewhere.db'}")).get_table_names())


def test_database_url_rule(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert db.database_url() == f"sqlite:///{ROOT / 'var' / 'shop.db'}"
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://u:p@db/shop")
    assert db.database_url() == "postgresql+psycopg2://u:p@db/shop"
    assert db.database_url("sqlite://") == "sqlite://"
    assert db.make_engine().url.host == "db"  # built, not connected: there is no host "db"


def test_in_memory_sqlite_is_one_database():
    engine = db.make_engine("sqlite://")
    db.upgrade_to_head(engine)
    assert seed_demo(db.session_factory(engine), NOW)
    assert OrderRepository(db.session_factory(engine)).get_order("1001000000000004") is not None


# ---- demo data ----------------------------------------------------------------------------


@pytest.mark.parametrize("order_id", sorted(REQUIRED))
def test_required_demo_orders(repo, order_id):
    phone, name, price, category, state, ago = REQUIRED[order_id]
    order = repo.get_order(order_id)
    item = order.items[0]
    assert (order.phone, item.name, item.price, item.category) == (phone, name, Decimal(price), category)
    assert order.shipment.state == state
    assert order.free_shipping is (order_id != "1001000000000012")
    assert order.warehouse in SHOP["warehouses"] and item.category in SHOP["warranty"]
    for name, days in ago.items():
        assert NOW - _date(order, name) == days * D, name


def test_demo_states_in_detail(repo):
    get = repo.get_order
    assert (
        get("1001000000000001").shipment.tracking_no is None and get("1001000000000001").shipment.events == []
    )
    moving = get("1001000000000002").shipment
    assert moving.events[0].description.endswith("揽收") and NOW - moving.events[-1].at < D
    label = get("1001000000000003").shipment
    assert (
        label.picked_up_at is None
        and label.tracking_no
        and NOW - label.label_printed_at > timedelta(hours=72)
    )
    assert get("1001000000000004").items[0].color == "米白色"
    assert get("1001000000000006").items[0].special == SpecialGoods.FRESH
    dryer = get("1001000000000008").items[0]
    assert dryer.warranty_months == 12 and 7 * 30 < (NOW - dryer.invoice_date).days < 9 * 30
    assert get("1001000000000009").shipment.events[-1].description.startswith("快件已签收")
    t_shirt = get("1001000000000012")
    assert t_shirt.shipping_fee > 0 and t_shirt.total == Decimal(59) + t_shirt.shipping_fee


def test_demo_extras(repo):
    assert len(DEMO_ORDER_IDS) >= 16
    assert [o.order_id for o in repo.orders_for_phone("13800000013")] == [
        "1001000000000014",
        "1001000000000013",
    ]
    assert any(len(repo.get_order(oid).items) > 1 for oid in DEMO_ORDER_IDS)
    open_cases = [c for oid in sorted(DEMO_ORDER_IDS) for c in repo.cases_for_order(oid) if c.is_open]
    assert (
        len(open_cases) == 1
        and repo.open_case_for(open_cases[0].order_id, open_cases[0].kind) == open_cases[0]
    )


def test_demo_is_realistic(repo):
    orders = [repo.get_order(oid) for oid in sorted(DEMO_ORDER_IDS)]
    for order in orders:
        warehouse = SHOP["warehouses"][order.warehouse]
        assert (order.shipment.origin_city, order.shipment.origin_province) == (
            warehouse["city"],
            warehouse["province"],
        )
        assert order.customer_name and order.shipping_cost > 0
        for item in order.items:
            assert Decimal("0.25") <= item.margin / item.price <= Decimal("0.60"), item.name
    assert any(o.shipment.same_city for o in orders)
    assert any(not o.shipment.same_province for o in orders)
    assert {o.warehouse for o in orders} == set(SHOP["warehouses"])


def test_seed_only_when_empty(session_factory):
    assert seed_demo(session_factory, NOW) is False
    with session_factory() as s:
        assert s.execute(select(func.count()).select_from(m.OrderRow)).scalar() == len(DEMO_ORDER_IDS)


# ---- orders and ownership -----------------------------------------------------------------


@pytest.mark.parametrize(
    "proof, ok",
    [("0004", True), ("13800000004", True), ("138 0000 0004", True), ("+86 138-0000-0004", True),
     ("0005", False), ("13800000005", False), ("", False), (None, False), ("004", False), ("00004", False),
     ("'; DROP TABLE orders;--", False)],
)  # fmt: skip
def test_verify_owner(repo, proof, ok):
    assert repo.verify_owner("1001000000000004", proof) is ok


def test_unknown_order(repo):
    assert repo.get_order("9999999999999999") is None
    assert repo.verify_owner("9999999999999999", "0004") is False
    assert repo.verify_owner("9999999999999999", "13800000004") is False


def test_orders_for_phone(repo):
    assert [o.order_id for o in repo.orders_for_phone("138 0000 0013")] == [
        "1001000000000014",
        "1001000000000013",
    ]
    assert [o.order_id for o in repo.orders_for_phone("13800000013", limit=1)] == ["1001000000000014"]
    assert len(repo.orders_for_phone("13800000013")[1].items) == 3
    assert repo.orders_for_phone("13900000000") == []


def test_return_tracking(repo):
    repo.set_return_tracking("1001000000000004", " SF1234567890123 ")
    assert repo.get_order("1001000000000004").shipment.return_tracking_no == "SF1234567890123"
    with pytest.raises(KeyError):
        repo.set_return_tracking("9999999999999999", "SF1")


# ---- cases -------------------------------------------------------------------------------


def test_case_lifecycle(repo):
    case = repo.open_case("1001000000000004", "color_mismatch", "R10", "conv-1", status="waiting_evidence")
    assert (case.status, case.opened_at, case.closed_at, case.detail) == ("waiting_evidence", NOW, None, {})
    assert repo.open_case_for("1001000000000004", "color_mismatch") == case
    updated = repo.update_case(case.case_id, status="open", note="买家已发日光下照片", detail={"photos": 2})
    assert updated.note == "买家已发日光下照片" and updated.detail == {"photos": 2} and updated.rule == "R10"
    closed = repo.update_case(case.case_id, refund_amount=Decimal("15"), rule="R9", close=True)
    assert (closed.status, closed.closed_at, closed.refund_amount, closed.rule) == (
        "closed",
        NOW,
        Decimal("15.00"),
        "R9",
    )
    assert repo.open_case_for("1001000000000004", "color_mismatch") is None
    assert repo.cases_for_order("1001000000000004") == [closed] and repo.get_case(case.case_id) == closed


def test_case_errors(repo):
    with pytest.raises(KeyError):
        repo.update_case(999999, status="closed")
    assert repo.get_case(999999) is None
    with pytest.raises(IntegrityError):
        repo.open_case("9999999999999999", "return", "R6", "conv")


def test_offers_are_kept_in_order(repo):
    case = repo.open_case("1001000000000011", "compensation", "R9", "conv-2")
    repo.record_offer(
        case.case_id, 1, "shop", Decimal("20"), "同城运费约 10 元，高价商品再多补一些", "countered"
    )
    repo.record_offer(case.case_id, 1, "shopper", Decimal("80"), "", "declined")
    offers = repo.offers_for_case(case.case_id)
    assert [(o.round, o.actor, o.amount, o.outcome) for o in offers] == [
        (1, "shop", Decimal("20.00"), "countered"),
        (1, "shopper", Decimal("80.00"), "declined"),
    ]
    with pytest.raises(IntegrityError):
        repo.record_offer(case.case_id, 2, "robot", Decimal("1"), "", "")


# ---- refunds: exactly one per accepted deal --------------------------------------------------


def test_refund_is_idempotent(repo, session_factory, engine):
    case = repo.open_case("1001000000000011", "compensation", "R9", "conv-3")
    refund_id, created = repo.create_refund(case.case_id, Decimal("30"), "deal-abc:accepted")
    assert created is True
    assert repo.create_refund(case.case_id, Decimal("30"), "deal-abc:accepted") == (refund_id, False)
    other_engine = db.make_engine(engine.url.render_as_string(hide_password=False))  # its own pool
    try:
        again = OrderRepository(db.session_factory(other_engine)).create_refund(
            case.case_id, Decimal("30"), "deal-abc:accepted"
        )
    finally:
        other_engine.dispose()
    assert again == (refund_id, False)
    assert [(r.amount, r.key) for r in repo.refunds_for_case(case.case_id)] == [
        (Decimal("30.00"), "deal-abc:accepted")
    ]


def test_refund_race_between_workers(repo, engine):
    """Four workers with their own engines accept the same deal at once: one refund."""
    case = repo.open_case("1001000000000004", "compensation", "R9", "conv-4")
    url, results, start = engine.url.render_as_string(hide_password=False), [], threading.Barrier(4)

    def worker() -> None:
        own = db.make_engine(url)
        start.wait()
        results.append(
            OrderRepository(db.session_factory(own)).create_refund(case.case_id, Decimal("12.5"), "race")
        )
        own.dispose()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert len({refund_id for refund_id, _ in results}) == 1 and len(repo.refunds_for_case(case.case_id)) == 1


def test_refund_from_another_process(repo, engine):
    case = repo.open_case("1001000000000011", "compensation", "R9", "conv-5")
    first = repo.create_refund(case.case_id, Decimal("30"), "deal-xyz")
    code = (
        "import sys, json; from decimal import Decimal; from bot.store import *;"
        "r = OrderRepository(session_factory(make_engine()));"
        f"print(json.dumps(r.create_refund({case.case_id}, Decimal('30'), 'deal-xyz')))"
    )
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == [first[0], False]


def test_refund_rejects_nonsense(repo):
    case = repo.open_case("1001000000000011", "compensation", "R9", "conv-6")
    with pytest.raises(ValueError):
        repo.create_refund(case.case_id, Decimal("0"), "zero")
    with pytest.raises(IntegrityError):  # no such case: not mistaken for a duplicate key
        repo.create_refund(999999, Decimal("5"), "orphan")


# ---- evidence, promises, handoffs, ratings -----------------------------------------------


def test_evidence(repo):
    case = repo.open_case("1001000000000004", "quality", "R8", "conv-7", status="waiting_evidence")
    evidence_id = repo.add_evidence(case.case_id, "var/uploads/conv-7/1.jpg", "image/jpeg", 204800, "conv-7")
    [evidence] = repo.evidence_for_case(case.case_id)
    assert (evidence.evidence_id, evidence.size, evidence.uploaded_at) == (evidence_id, 204800, NOW)


def test_follow_ups_come_due_and_are_kept(repo):
    case = repo.open_case("1001000000000003", "no_pickup", "R4", "conv-8")
    due = NOW + timedelta(hours=24)
    follow_up_id = repo.add_follow_up(
        case.case_id, "conv-8", "24 小时内回复揽件进度", due.replace(tzinfo=timezone.utc)
    )
    assert repo.due_follow_ups(NOW) == [] and repo.due_follow_ups() == []
    [pending] = repo.due_follow_ups(due)
    assert (pending.follow_up_id, pending.due_at, pending.done_at) == (follow_up_id, due, None)
    kept = repo.mark_follow_up(follow_up_id, done=True, reported=True)
    assert kept.done_at == NOW and kept.reported_at == NOW
    assert repo.due_follow_ups(due) == [] and repo.follow_ups_for_case(case.case_id) == [kept]


def test_handoffs(repo):
    repo.record_handoff("conv-9", None, "angry", "顾客：大衣色差严重…")
    [handoff] = repo.handoffs("conv-9")
    assert (handoff.reason, handoff.status, handoff.case_id, handoff.created_at) == (
        "angry",
        "waiting",
        None,
        NOW,
    )
    assert repo.handoffs(status="waiting") == [handoff] and repo.handoffs("other") == []


def test_ratings(repo, session_factory):
    assert repo.save_rating("conv-10", 5, "很耐心，谢谢")
    with pytest.raises(ValueError):
        repo.save_rating("conv-10", 6)
    with pytest.raises(IntegrityError), session_factory.begin() as s:  # the database checks it too
        s.add(m.RatingRow(conversation_id="x", score=0, comment="", created_at=NOW))


# ---- reset ---------------------------------------------------------------------------------


def _everything(repo):
    case = repo.open_case("1001000000000004", "return", "R6", "conv-11")
    repo.record_offer(case.case_id, 1, "shop", Decimal("10"), "运费补偿", "accepted")
    repo.create_refund(case.case_id, Decimal("10"), "k1")
    repo.add_evidence(case.case_id, "a.jpg", "image/jpeg", 10)
    repo.add_follow_up(case.case_id, "conv-11", "明天回电", NOW)
    repo.record_handoff("conv-11", case.case_id, "asked", "…")
    repo.save_rating("conv-11", 4)


def test_reset_demo_wipes_cases_and_records(repo, session_factory):
    _everything(repo)
    reset_demo(session_factory, NOW)
    assert repo.cases_for_order("1001000000000004") == []
    with session_factory() as s:
        for model in (m.OfferRow, m.RefundRow, m.EvidenceRow, m.FollowUpRow, m.HandoffRow, m.RatingRow):
            assert s.execute(select(func.count()).select_from(model)).scalar() == 0, model.__tablename__
    assert (
        repo.get_order("1001000000000001") is not None and len(repo.cases_for_order("1001000000000015")) == 1
    )


def _add_real_order(session_factory) -> None:
    with session_factory.begin() as s:
        customer = m.Customer(name="真实顾客", phone="13912345678")
        s.add(customer)
        s.flush()
        s.add(
            m.OrderRow(
                order_id="2002000000000001",
                customer_id=customer.id,
                phone="13912345678",
                paid_at=NOW,
                warehouse="hangzhou",
            )
        )


def test_reset_demo_spares_a_real_shop(repo, session_factory):
    _add_real_order(session_factory)
    with pytest.raises(RuntimeError):
        reset_demo(session_factory, NOW)
    reset_demo(session_factory, NOW, force=True)
    assert repo.get_order("2002000000000001") is None


# ---- command line --------------------------------------------------------------------------


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_cli_prints_cases_as_json(repo, engine, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", _url(engine))
    case = repo.open_case(
        "1001000000000005", "return", "R6", "conv-12", note="超过七天，买家电话 13800000005"
    )
    repo.update_case(case.case_id, refund_amount=Decimal("12.50"), close=True)
    assert cli.main(["cases", "--order", "1001000000000005"]) == 0
    out = capsys.readouterr().out
    [row] = json.loads(out)
    assert row["kind"] == "return" and row["rule"] == "R6" and row["status"] == "closed"
    assert row["refund_amount"] == 12.5 and row["conversation_id"] == "conv-12"
    assert datetime.fromisoformat(row["opened_at"]) == NOW and datetime.fromisoformat(row["closed_at"]) == NOW
    assert "13800000005" not in out and "138****0005" in out
    assert cli.main(["cases", "--order", "1001000000000001"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def _program(engine, *args: str) -> subprocess.CompletedProcess:
    """``python -m bot ...`` in a child process, against the test database."""
    env = {**os.environ, "DATABASE_URL": _url(engine)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_cli_as_a_program(engine, session_factory):  # session_factory: seeded
    run = lambda *args: _program(engine, *args)  # noqa: E731
    shown = run("cases", "--order", "1001000000000015")
    assert shown.returncode == 0, shown.stderr
    assert [c["status"] for c in json.loads(shown.stdout)] == ["waiting_return"]
    for bad in (["cases"], ["cases", "--order", "abc"], ["db", "drop"], []):
        assert run(*bad).returncode == 2


def test_cli_db_commands(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli.main(["--database-url", url, "cases", "--order", "1001000000000001"]) == 1
    assert "db upgrade" in capsys.readouterr().err
    assert cli.main(["--database-url", url, "db", "upgrade"]) == 0
    assert cli.main(["--database-url", url, "db", "seed"]) == 0
    assert cli.main(["--database-url", url, "db", "seed"]) == 0
    assert "Already has orders" in capsys.readouterr().out
    sessions = db.session_factory(db.make_engine(url))
    _add_real_order(sessions)
    assert cli.main(["--database-url", url, "db", "reset-demo"]) == 2
    assert "--force" in capsys.readouterr().err
    assert cli.main(["--database-url", url, "db", "reset-demo", "--force"]) == 0
    assert OrderRepository(sessions).get_order("2002000000000001") is None
