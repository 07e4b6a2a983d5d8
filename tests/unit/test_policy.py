"""The after-sales policy against the rules of ../shared/DOMAIN.md (ids R1...R16 in every case id).

Tables first (one row per rule edge: 72 h exactly, day 7 to the minute, special goods,
free or paid shipping, invoice or manufacture date...), then invariants over every
request in every shipping state, then the settings loader.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import yaml

from bot.domain import Refund, ShipState, SpecialGoods
from bot.policy import (
    REFUSALS,
    Action,
    Decision,
    Request,
    compensation,
    decide,
    response_deadline,
    without_evidence,
)
from bot.policy.timing import add_months
from bot.settings import SHOP_YML, SettingsError, load_settings
from tests.unit.factories import (
    DAY,
    HOUR,
    MINUTE,
    NOW,
    SHOP,
    earphones,
    hair_dryer,
    hard_disk,
    item,
    laptop,
    order,
    paid_shipping,
    settings,
)

D = Decimal
HZ_ADDRESS = SHOP.warehouses["hangzhou"].return_address
GZ_ADDRESS = SHOP.warehouses["guangzhou"].return_address
S = ShipState


def run(o, request, cfg=None, now=NOW, **answers) -> Decision:
    return decide(o, Request(request), now, cfg or SHOP, **answers)


# ---- R1 before the pickup scan, R2 in transit, R5 refused ------------------------------------

# fmt: off
BEFORE_AND_AFTER_PICKUP = [
    pytest.param(order(S.NOT_SHIPPED), "refund_only", {}, Action.ASK_STILL_WANTS, "R1", id="R1-not-shipped-asks-still-wants-first"),
    pytest.param(order(S.NOT_SHIPPED), "refund_only", {"still_wants_item": False}, Action.REFUND_NOW, "R1", id="R1-not-wanted-refund-now"),
    pytest.param(order(S.NOT_SHIPPED), "refund_only", {"still_wants_item": True}, Action.SHIP_AND_WITHDRAW, "R1", id="R1-still-wanted-ship-and-ask-withdraw"),
    pytest.param(order(S.LABEL_PRINTED, label=10 * HOUR), "refund_only", {}, Action.ASK_STILL_WANTS, "R1", id="R1-label-printed-without-pickup-scan-is-not-shipped"),
    pytest.param(order(S.NOT_SHIPPED), "return", {}, Action.ASK_STILL_WANTS, "R1", id="R1-return-before-pickup-asks-first"),
    pytest.param(order(S.NOT_SHIPPED), "cancel", {}, Action.REFUND_NOW, "R1", id="R1-cancel-before-pickup-is-not-wanted-refund-now"),
    pytest.param(order(S.IN_TRANSIT), "refund_only", {}, Action.RECALL_OR_REFUSE_THEN_REFUND, "R2", id="R2-refund-only-in-transit-recall-or-refuse"),
    pytest.param(order(S.IN_TRANSIT), "refund_only", {"still_wants_item": False}, Action.RECALL_OR_REFUSE_THEN_REFUND, "R2", id="R2-in-transit-answer-does-not-allow-instant-refund"),
    pytest.param(order(S.IN_TRANSIT), "return", {}, Action.RECALL_OR_REFUSE_THEN_REFUND, "R2", id="R2-return-before-receipt-is-recall"),
    pytest.param(order(S.REFUSED), "refund_only", {}, Action.APPROVE_REFUND, "R5", id="R5-refused-parcel-refund-approved"),
    pytest.param(order(S.REFUSED), "return", {}, Action.APPROVE_REFUND, "R5", id="R5-refused-return-approved"),
]
# fmt: on


@pytest.mark.parametrize("o, request_, answers, action, rule", BEFORE_AND_AFTER_PICKUP)
def test_refunds_before_receipt(o, request_, answers, action, rule):
    decision = run(o, request_, **answers)
    assert (decision.action, decision.rule) == (action, rule)


def test_R1_not_wanted_refunds_the_whole_order_at_once():
    o = paid_shipping(S.NOT_SHIPPED)
    decision = run(o, "refund_only", still_wants_item=False)
    assert (
        decision.refund_amount == o.total == D("271")
    )  # 259 goods + 12 shipping: nothing deducted before pickup
    assert "揽件" in decision.reason


def test_R1_ship_and_withdraw_explains_why_the_request_must_be_withdrawn():
    decision = run(order(S.NOT_SHIPPED), "refund_only", still_wants_item=True)
    assert decision.refund_amount is None
    assert "撤销" in decision.reason and "48 小时" in decision.reason  # R7: else the platform refunds


@pytest.mark.parametrize("state", [S.NOT_SHIPPED, S.LABEL_PRINTED])
@pytest.mark.parametrize("request_", ["refund_only", "return"])
def test_R1_never_ships_without_asking(state, request_):
    decision = run(order(state, label=HOUR), request_)
    assert decision.action is not Action.SHIP_AND_WITHDRAW
    assert decision.action is Action.ASK_STILL_WANTS


def test_R2_asks_to_refuse_and_withdraw_and_refunds_once_back():
    decision = run(order(S.IN_TRANSIT), "refund_only")
    assert "拒签" in decision.reason and "撤销" in decision.reason and "退回" in decision.reason
    assert decision.refund_amount == D("259")


# ---- R3 free shipping and R12 cancellation after shipment -------------------------------------

# fmt: off
SHIPPING_COST = [
    # (order, request, refund, deduction, rule)
    pytest.param(order(S.IN_TRANSIT), "cancel", "259", "0", "R3", id="R3-free-shipping-cancel-no-deduction"),
    pytest.param(paid_shipping(S.IN_TRANSIT), "cancel", "263", "8", "R12", id="R12-paid-shipping-cancel-deducts-contract-cost-8-not-fee-12"),
    pytest.param(paid_shipping(S.IN_TRANSIT), "refund_only", "271", "0", "R2", id="R2-refund-only-in-transit-refunds-in-full"),
    pytest.param(paid_shipping(S.REFUSED), "cancel", "263", "8", "R5", id="R12-paid-cancel-refused-deducts"),
    pytest.param(order(S.REFUSED), "cancel", "259", "0", "R5", id="R3-free-cancel-refused-no-deduction"),
    pytest.param(paid_shipping(S.NOT_SHIPPED), "cancel", "271", None, "R1", id="R12-cancel-before-pickup-refunds-in-full"),
]
# fmt: on


@pytest.mark.parametrize("o, request_, refund, deduction, rule", SHIPPING_COST)
def test_shipping_cost_on_refunds(o, request_, refund, deduction, rule):
    decision = run(o, request_)
    assert decision.refund_amount == D(refund)
    assert decision.facts.get("shipping_deduction") == (D(deduction) if deduction is not None else None)
    assert decision.rule == rule


def test_R12_deduction_is_explained_never_a_bare_number():
    decision = run(paid_shipping(S.IN_TRANSIT), "cancel")
    assert "8 元" in decision.reason and "协议价" in decision.reason and "263 元" in decision.reason


def test_R3_free_shipping_says_outbound_shipping_is_ours():
    decision = run(order(S.IN_TRANSIT), "cancel")
    assert "包邮" in decision.reason and "不会从退款里扣" in decision.reason


def test_R12_shop_may_choose_not_to_deduct():
    decision = run(paid_shipping(S.IN_TRANSIT), "cancel", settings(deduct_shipping_on_cancel=False))
    assert decision.refund_amount == D("271")


# ---- R4 no pickup scan for 72 hours ----------------------------------------------------------

# fmt: off
NO_PICKUP = [
    pytest.param(72 * HOUR, "delay", Action.PROMISE_NEWS, "R4", id="R4-72h-exactly-counts"),
    pytest.param(72 * HOUR - MINUTE, "delay", Action.PROMISE_NEWS, "R11", id="R4-71h59m-does-not-count"),
    pytest.param(96 * HOUR, "status", Action.PROMISE_NEWS, "R4", id="R4-status-after-72h-chases-courier"),
    pytest.param(10 * HOUR, "status", Action.TELL_LOCATION, "R11", id="R4-10h-status-is-normal"),
    pytest.param(72 * HOUR, "lost", Action.PROMISE_NEWS, "R4", id="R4-lost-after-72h"),
]
# fmt: on


@pytest.mark.parametrize("waited, request_, action, rule", NO_PICKUP)
def test_R4_no_pickup_scan(waited, request_, action, rule):
    decision = run(order(S.LABEL_PRINTED, label=waited), request_)
    assert (decision.action, decision.rule) == (action, rule)
    assert decision.facts["hours_without_pickup"] == round(waited.total_seconds() / 3600, 2)


def test_R4_offers_refund_only_when_not_moving():
    decision = run(order(S.LABEL_PRINTED, label=80 * HOUR), "delay")
    assert "80 小时" in decision.reason and "72 小时" in decision.reason and "仅退款" in decision.reason
    assert decision.follow_up_hours == 24


def test_R4_moving_parcel_tells_where_it_is():
    decision = run(order(S.LABEL_PRINTED, label=80 * HOUR, last_scan=5 * HOUR), "delay")
    assert (decision.action, decision.rule) == (Action.TELL_LOCATION, "R4")
    assert "杭州转运中心" in decision.reason and "拒签" in decision.reason


@pytest.mark.parametrize(
    "waited, answer, action, rule",
    [
        pytest.param(72 * HOUR, None, Action.ASK_STILL_WANTS, "R4", id="R4-refund-after-72h-asks-first"),
        pytest.param(72 * HOUR, False, Action.REFUND_NOW, "R4", id="R4-wants-out-refund-only"),
        pytest.param(72 * HOUR - MINUTE, False, Action.REFUND_NOW, "R1", id="R4-71h59m-refund-is-plain-R1"),
    ],
)
def test_R4_refund_request_when_never_picked_up(waited, answer, action, rule):
    decision = run(order(S.LABEL_PRINTED, label=waited), "refund_only", still_wants_item=answer)
    assert (decision.action, decision.rule) == (action, rule)


# ---- R6 seven-day no-reason return -----------------------------------------------------------

# fmt: off
SEVEN_DAYS = [
    pytest.param(order(delivered=7 * DAY), Action.APPROVE_RETURN_ASK_TRACKING, id="R6-day7-exactly-inside"),
    pytest.param(order(delivered=7 * DAY + MINUTE), Action.RETURN_WINDOW_PASSED, id="R6-day7-plus-1min-outside"),
    pytest.param(order(delivered=HOUR), Action.APPROVE_RETURN_ASK_TRACKING, id="R6-day1-inside"),
    pytest.param(order(items=[item("车厘子", "food", "158", SpecialGoods.FRESH)], delivered=HOUR), Action.DENY_RETURN_SPECIAL_GOODS, id="R6-fresh-excluded"),
    pytest.param(order(items=[item("会员卡", "homeware", "99", SpecialGoods.VIRTUAL)], delivered=HOUR), Action.DENY_RETURN_SPECIAL_GOODS, id="R6-virtual-excluded"),
    pytest.param(order(items=[item("刻字保温杯", "homeware", "129", SpecialGoods.CUSTOM)], delivered=HOUR), Action.DENY_RETURN_SPECIAL_GOODS, id="R6-custom-excluded"),
    pytest.param(order(items=[item("车厘子", "food", "158", SpecialGoods.FRESH)], delivered=30 * DAY), Action.DENY_RETURN_SPECIAL_GOODS, id="R6-special-says-why-even-after-window"),
]
# fmt: on


@pytest.mark.parametrize("o, action", SEVEN_DAYS)
def test_R6_seven_day_return(o, action):
    decision = run(o, "return")
    assert (decision.action, decision.rule) == (action, "R6")


def test_R6_approval_warns_about_resale_and_gives_the_warehouse_address():
    decision = run(order(delivered=3 * DAY), "return")
    assert decision.return_address == HZ_ADDRESS == decision.facts["return_address"]
    assert "二次销售" in decision.reason and "单号" in decision.reason
    assert decision.refund_amount == D("259")
    assert decision.facts["return_deadline"] == NOW - 3 * DAY + 7 * DAY


def test_R6_return_address_is_the_shipping_warehouse():
    decision = run(order(delivered=DAY, warehouse="guangzhou"), "return")
    assert decision.return_address == GZ_ADDRESS != HZ_ADDRESS


def test_R6_window_comes_from_settings():
    o = order(delivered=9 * DAY)
    assert run(o, "return").action is Action.RETURN_WINDOW_PASSED
    assert run(o, "return", settings(no_reason_days=10)).action is Action.APPROVE_RETURN_ASK_TRACKING


def test_R6_mixed_order_returns_only_ordinary_goods():
    o = order(
        items=[
            item("羽绒服", price="699", sku="A"),
            item("车厘子", "food", "158", SpecialGoods.FRESH, sku="B"),
        ],
        delivered=DAY,
    )
    decision = run(o, "return")
    assert decision.action is Action.APPROVE_RETURN_ASK_TRACKING
    assert decision.refund_amount == D("699")
    assert "车厘子" in decision.reason


def test_R6_refund_counts_quantity_of_the_named_item():
    o = order(items=[item("枕头", price="129", sku="P", quantity=2), item("被套", price="329", sku="Q")])
    assert run(o, "return", item_sku="P").refund_amount == D("258")
    assert run(o, "return").refund_amount == D("587")


@pytest.mark.parametrize("special", [SpecialGoods.FRESH, SpecialGoods.VIRTUAL, SpecialGoods.CUSTOM])
def test_R6_special_goods_still_get_refund_only(special):
    o = order(items=[item("特殊商品", special=special)], delivered=HOUR)
    refusal = run(o, "return")
    assert "仅退款" in refusal.reason and refusal.needs_evidence
    assert run(o, "refund_only").action is Action.ASK_EVIDENCE  # refund-only applies to every order


def test_R6_exchange_inside_window_asks_for_tracking_without_a_refund():
    decision = run(order(delivered=2 * DAY), "exchange")
    assert decision.action is Action.APPROVE_EXCHANGE_ASK_TRACKING
    assert decision.refund_amount is None and decision.return_address == HZ_ADDRESS


def test_R6_cancel_after_delivery_is_a_return():
    assert run(order(delivered=2 * DAY), "cancel").action is Action.APPROVE_RETURN_ASK_TRACKING


# ---- R7 response deadline ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "o, request_, has_deadline",
    [
        pytest.param(order(S.NOT_SHIPPED), "refund_only", True, id="R7-refund-only-has-48h-deadline"),
        pytest.param(order(), "return", True, id="R7-return-has-deadline"),
        pytest.param(order(S.IN_TRANSIT), "cancel", True, id="R7-cancel-has-deadline"),
        pytest.param(order(S.IN_TRANSIT), "status", False, id="R7-status-is-no-refund-request"),
    ],
)
def test_R7_deadline_fact(o, request_, has_deadline):
    facts = run(o, request_).facts
    assert ("respond_by" in facts) is has_deadline
    if has_deadline:
        assert facts["respond_by"] == NOW + 48 * HOUR == response_deadline(NOW, SHOP)


# ---- R8 quality, R10 colour, sizes, wrong and missing items -----------------------------------

# fmt: off
PRODUCT_PROBLEMS = [
    pytest.param("quality_issue", {}, Action.ASK_EVIDENCE, "R8", id="R8-quality-asks-photos"),
    pytest.param("quality_issue", {"has_evidence": True}, Action.OFFER_EXCHANGE_SHOP_PAYS, "R8", id="R8-quality-with-photos-exchange-shop-pays"),
    pytest.param("quality_issue", {"has_evidence": True, "still_wants_item": False}, Action.HANDOFF, "R8", id="R8-refund-instead-case-by-case"),
    pytest.param("color_mismatch", {}, Action.ASK_EVIDENCE, "R10", id="R10-colour-asks-daylight-photo"),
    pytest.param("color_mismatch", {"has_evidence": True}, Action.OFFER_OPTIONS_OR_COMPENSATION, "R10", id="R10-colour-with-photo-offers-options"),
    pytest.param("size_mismatch", {}, Action.ASK_EVIDENCE, "R8", id="R8-size-asks-measurements"),
    pytest.param("size_mismatch", {"has_evidence": True}, Action.OFFER_EXCHANGE_SHOP_PAYS, "R8", id="R8-size-exchange-first"),
    pytest.param("wrong_item", {}, Action.ASK_EVIDENCE, "R8", id="R8-wrong-item-asks-photo"),
    pytest.param("wrong_item", {"has_evidence": True}, Action.OFFER_EXCHANGE_SHOP_PAYS, "R8", id="R8-wrong-style-exchange-shop-pays"),
    pytest.param("wrong_item", {"has_evidence": True, "fault": "missing"}, Action.RESHIP_MISSING, "R8", id="R8-missing-item-reshipped"),
    pytest.param("warranty", {}, Action.ASK_EVIDENCE, "R8", id="R8-warranty-on-clothes-is-a-quality-issue"),
]
# fmt: on


@pytest.mark.parametrize("request_, answers, action, rule", PRODUCT_PROBLEMS)
def test_product_problems(request_, answers, action, rule):
    decision = run(order(delivered=2 * DAY), request_, **answers)
    assert (decision.action, decision.rule) == (action, rule)
    assert decision.needs_evidence is (action is Action.ASK_EVIDENCE)


def test_R10_explains_screens_and_asks_for_daylight():
    decision = run(order(), "color_mismatch")
    assert "自然光" in decision.reason and "屏幕" in decision.reason
    assert decision.follow_up_hours == 24  # R16: remind the shopper to send it


def test_R10_options_leave_the_amount_to_bargain():
    decision = run(order(), "color_mismatch", has_evidence=True)
    assert decision.refund_amount is None
    assert all(word in decision.reason for word in ("换", "退货", "补偿"))


def test_R8_exchange_shipping_is_paid_by_the_shop():
    decision = run(order(), "quality_issue", has_evidence=True)
    assert "运费都由我们承担" in decision.reason and decision.return_address == HZ_ADDRESS


def test_R8_fresh_goods_are_not_sent_back():
    o = order(items=[item("车厘子", "food", "158", SpecialGoods.FRESH)])
    decision = run(o, "quality_issue", has_evidence=True)
    assert decision.action is Action.OFFER_EXCHANGE_SHOP_PAYS and decision.return_address is None


@pytest.mark.parametrize(
    "request_", ["quality_issue", "color_mismatch", "size_mismatch", "wrong_item", "warranty", "exchange"]
)
def test_problem_before_delivery_says_where_the_parcel_is(request_):
    decision = run(order(S.IN_TRANSIT), request_, has_evidence=True)
    assert decision.action is Action.TELL_LOCATION
    assert "还没有签收" in decision.reason and "济南转运中心" in decision.reason


# ---- R11 delay and lost parcels ----------------------------------------------------------------

# fmt: off
LOGISTICS = [
    pytest.param(order(S.IN_TRANSIT), "delay", Action.PROMISE_NEWS, id="R11-delay-in-transit-promise-24h"),
    pytest.param(order(S.NOT_SHIPPED), "delay", Action.PROMISE_NEWS, id="R11-delay-before-shipping-promise"),
    pytest.param(order(S.IN_TRANSIT), "lost", Action.TELL_LOCATION, id="R11-moving-parcel-is-not-lost"),
    pytest.param(order(S.IN_TRANSIT, last_scan=49 * HOUR), "lost", Action.PROMISE_NEWS, id="R11-stalled-parcel-chased"),
    pytest.param(order(S.IN_TRANSIT), "status", Action.TELL_LOCATION, id="R11-status-tells-location"),
    pytest.param(order(S.LOST), "lost", Action.RESHIP_OR_REFUND, id="R11-lost-reship-or-refund"),
    pytest.param(order(S.LOST), "delay", Action.RESHIP_OR_REFUND, id="R11-lost-on-delay-reship-or-refund"),
    pytest.param(order(S.LOST), "refund_only", Action.REFUND_NOW, id="R11-lost-refund-now-no-claim-wait"),
    pytest.param(order(S.DELIVERED), "lost", Action.PROMISE_NEWS, id="R11-delivered-not-received-is-investigated"),
]
# fmt: on


@pytest.mark.parametrize("o, request_, action", LOGISTICS)
def test_R11_logistics(o, request_, action):
    decision = run(o, request_)
    assert decision.action is action
    assert decision.rule == "R11"
    assert (decision.follow_up_hours == 24) is (action is Action.PROMISE_NEWS)


def test_R11_lost_parcel_refund_is_the_whole_order_and_no_claim_wait():
    o = paid_shipping(S.LOST)
    decision = run(o, "lost")
    assert decision.refund_amount == o.total == D("271")
    assert "补发" in decision.reason or "重新发货" in decision.reason
    assert "不需要您等" in decision.reason


def test_R11_delivered_not_received_counts_as_lost_investigation():
    decision = run(order(S.DELIVERED), "lost")
    assert decision.facts["lost_investigation"] is True
    assert "补发或退款" in decision.reason


@pytest.mark.parametrize(
    "promise, maximum, expected",
    [
        pytest.param(24, 48, 24, id="R11-24h-promise"),
        pytest.param(36, 36, 36, id="R11-promise-at-the-maximum"),
    ],
)
def test_R11_promise_follows_settings_and_never_passes_the_maximum(promise, maximum, expected):
    cfg = settings(news_promise_hours=promise, max_news_hours=maximum)
    decision = run(order(S.IN_TRANSIT), "delay", cfg)
    assert decision.follow_up_hours == expected <= 48
    assert f"{expected} 小时" in decision.reason


# ---- R13 warranty ----------------------------------------------------------------------------

PERF = {"fault": "performance"}
# fmt: off
WARRANTY = [
    # (item, delivered ago, answers, action)
    pytest.param(laptop(invoice=5 * DAY), 5 * DAY, PERF, Action.RETURN_WITHIN_7, id="R13-laptop-day5-return"),
    pytest.param(laptop(invoice=7 * DAY), 7 * DAY, PERF, Action.RETURN_WITHIN_7, id="R13-day7-exactly-return"),
    pytest.param(laptop(invoice=7 * DAY), 7 * DAY + MINUTE, PERF, Action.EXCHANGE_WITHIN_15, id="R13-day7-plus-1min-exchange"),
    pytest.param(laptop(invoice=15 * DAY), 15 * DAY, PERF, Action.EXCHANGE_WITHIN_15, id="R13-day15-exactly-exchange"),
    pytest.param(laptop(invoice=15 * DAY), 15 * DAY + MINUTE, PERF, Action.REPAIR_IN_WARRANTY, id="R13-day15-plus-1min-repair"),
    pytest.param(laptop(invoice=300 * DAY), 300 * DAY, PERF, Action.REPAIR_IN_WARRANTY, id="R13-laptop-inside-period-repair"),
    pytest.param(laptop(invoice=400 * DAY), 400 * DAY, PERF, Action.MANUFACTURER_SERVICE, id="R13-laptop-after-period-manufacturer"),
    pytest.param(laptop(invoice=400 * DAY), 400 * DAY, {}, Action.MANUFACTURER_SERVICE, id="R13-after-period-needs-no-photo"),
    pytest.param(hair_dryer(invoice=240 * DAY), 240 * DAY, PERF, Action.REPLACE_SMALL_APPLIANCE, id="R13-small-appliance-8-months-replace"),
    pytest.param(hair_dryer(invoice=400 * DAY), 400 * DAY, PERF, Action.OUT_OF_WARRANTY, id="R13-small-appliance-after-year"),
    pytest.param(earphones(invoice=60 * DAY, made=400 * DAY), 60 * DAY, PERF, Action.REPAIR_IN_WARRANTY, id="R13-invoice-date-counts"),
    pytest.param(earphones(made=400 * DAY), 60 * DAY, PERF, Action.OUT_OF_WARRANTY, id="R13-no-invoice-manufacture-date-fallback"),
    pytest.param(earphones(made=100 * DAY), 60 * DAY, PERF, Action.REPAIR_IN_WARRANTY, id="R13-no-invoice-manufacture-inside"),
    pytest.param(hard_disk(invoice=3 * DAY), 3 * DAY, {"fault": "noise"}, Action.NOISE_NOT_FAILURE, id="R13-hard-disk-noise-is-not-failure"),
    pytest.param(hard_disk(invoice=3 * DAY), 3 * DAY, {"fault": "cannot_format"}, Action.RETURN_WITHIN_7, id="R13-hard-disk-cannot-format-returns"),
    pytest.param(hard_disk(invoice=3 * DAY), 3 * DAY, {}, Action.ASK_EVIDENCE, id="R13-hard-disk-asks-format-test"),
    pytest.param(hard_disk(invoice=3 * DAY), 3 * DAY, {"has_evidence": True}, Action.RETURN_WITHIN_7, id="R13-hard-disk-screenshot-returns"),
    pytest.param(hard_disk(invoice=30 * DAY), 30 * DAY, {"fault": "noise"}, Action.NOISE_NOT_FAILURE, id="R13-hard-disk-noise-never-a-failure"),
    pytest.param(earphones(invoice=3 * DAY), 3 * DAY, {}, Action.ASK_EVIDENCE, id="R13-fault-unseen-asks"),
]
# fmt: on


@pytest.mark.parametrize("it, delivered, answers, action", WARRANTY)
def test_R13_warranty(it, delivered, answers, action):
    decision = run(order(items=[it], delivered=delivered), "warranty", **answers)
    assert (decision.action, decision.rule) == (action, "R13")


def test_R13_warranty_end_from_invoice_else_manufacture_date():
    with_invoice = run(
        order(items=[earphones(invoice=60 * DAY, made=400 * DAY)], delivered=60 * DAY), "warranty", **PERF
    )
    without = run(order(items=[earphones(made=400 * DAY)], delivered=60 * DAY), "warranty", **PERF)
    assert with_invoice.facts["warranty_from"] == "invoice"
    assert with_invoice.facts["warranty_end"] == add_months(NOW - 60 * DAY, 12)
    assert without.facts["warranty_from"] == "manufacture"
    assert without.facts["warranty_end"] == add_months(NOW - 400 * DAY, 12)
    assert "出厂日期" in without.reason


@pytest.mark.parametrize(
    "now, action",
    [
        pytest.param(
            datetime(2026, 6, 1, 12, 0), Action.REPAIR_IN_WARRANTY, id="R13-last-day-of-period-inside"
        ),
        pytest.param(datetime(2026, 6, 1, 12, 1), Action.OUT_OF_WARRANTY, id="R13-one-minute-after-period"),
    ],
)
def test_R13_period_end_is_inclusive(now, action):
    it = replace(earphones(), invoice_date=datetime(2025, 6, 1, 12, 0))
    o = order(items=[it], delivered=30 * DAY)
    assert run(o, "warranty", now=now, **PERF).action is action


def test_R13_return_within_7_refunds_the_item():
    decision = run(
        order(items=[hard_disk(invoice=2 * DAY)], delivered=2 * DAY), "warranty", fault="cannot_format"
    )
    assert decision.refund_amount == D("459") and decision.return_address == HZ_ADDRESS


def test_R13_manufacturer_service_points_to_authorised_service():
    decision = run(order(items=[laptop(invoice=400 * DAY)], delivered=400 * DAY), "warranty", **PERF)
    assert "授权服务网点" in decision.reason and decision.return_address is None


def test_R13_quality_issue_with_a_performance_fault_goes_to_warranty():
    decision = run(order(items=[laptop(invoice=10 * DAY)], delivered=10 * DAY), "quality_issue", **PERF)
    assert decision.action is Action.EXCHANGE_WITHIN_15


def test_R13_category_months_apply_when_the_item_states_none():
    it = item("电水壶", "small_appliance", "99", invoice=100 * DAY)  # warranty_months=0: shop.yml's 12
    decision = run(order(items=[it], delivered=100 * DAY), "warranty", **PERF)
    assert decision.action is Action.REPLACE_SMALL_APPLIANCE


@pytest.mark.parametrize(
    "start, months, end",
    [
        pytest.param(datetime(2025, 1, 31), 1, datetime(2025, 2, 28), id="R13-month-end-clamped"),
        pytest.param(datetime(2024, 1, 31), 1, datetime(2024, 2, 29), id="R13-leap-year"),
        pytest.param(datetime(2025, 6, 1), 12, datetime(2026, 6, 1), id="R13-twelve-months"),
        pytest.param(datetime(2025, 11, 15), 3, datetime(2026, 2, 15), id="R13-across-year-end"),
    ],
)
def test_add_months(start, months, end):
    assert add_months(start, months) == end


# ---- R16 never a bare refusal ------------------------------------------------------------------

# fmt: off
REFUSAL_CASES = [
    pytest.param(order(items=[item("车厘子", "food", "158", SpecialGoods.FRESH)]), "return", {}, True, id="R16-special-goods-asks-photos"),
    pytest.param(order(delivered=10 * DAY), "return", {}, True, id="R16-window-passed-asks-photos"),
    pytest.param(order(items=[hard_disk(invoice=3 * DAY)], delivered=3 * DAY), "warranty", {"fault": "noise"}, True, id="R16-noise-asks-format-screenshot"),
    pytest.param(order(items=[earphones(made=400 * DAY)], delivered=60 * DAY), "warranty", PERF, True, id="R16-out-of-warranty-by-manufacture-date-asks-invoice"),
    pytest.param(order(items=[earphones(invoice=400 * DAY)], delivered=400 * DAY), "warranty", PERF, False, id="R16-out-of-warranty-by-invoice-nothing-to-ask"),
]
# fmt: on


@pytest.mark.parametrize("o, request_, answers, asks_evidence", REFUSAL_CASES)
def test_R16_every_refusal_has_a_reason_and_asks_for_evidence_when_it_could_help(
    o, request_, answers, asks_evidence
):
    decision = run(o, request_, **answers)
    assert decision.is_refusal
    assert "因为" in decision.reason and "您" in decision.reason
    assert decision.needs_evidence is asks_evidence
    if asks_evidence:
        assert any(word in decision.reason for word in ("拍照", "截图", "发给我"))


# ---- invariants over every request in every state ------------------------------------------------

STATES = [
    order(S.NOT_SHIPPED),
    order(S.LABEL_PRINTED, label=10 * HOUR),
    order(S.LABEL_PRINTED, label=100 * HOUR),
    order(S.IN_TRANSIT),
    order(S.IN_TRANSIT, last_scan=60 * HOUR),
    paid_shipping(S.IN_TRANSIT),
    order(S.DELIVERED, delivered=DAY),
    order(S.DELIVERED, delivered=30 * DAY),
    order(S.DELIVERED, items=[item("车厘子", "food", "158", SpecialGoods.FRESH)]),
    order(S.DELIVERED, items=[laptop(invoice=400 * DAY)], delivered=400 * DAY),
    order(S.DELIVERED, items=[hard_disk(invoice=DAY)], delivered=DAY, warehouse="guangzhou"),
    order(S.DELIVERED, items=[laptop(invoice=10 * DAY)], delivered=10 * DAY),
    order(S.DELIVERED, items=[laptop(invoice=100 * DAY)], delivered=100 * DAY),
    order(S.DELIVERED, items=[hair_dryer(invoice=240 * DAY)], delivered=240 * DAY),
    order(S.DELIVERED, items=[earphones(made=400 * DAY)], delivered=20 * DAY),
    order(S.REFUSED),
    paid_shipping(S.LOST),
]
ANSWERS = [
    {},
    {"has_evidence": True},
    {"still_wants_item": False},
    {"still_wants_item": True},
    {"fault": "noise"},
    {"fault": "performance", "has_evidence": True},
    {"fault": "missing", "has_evidence": True},
]
RULES = {f"R{n}" for n in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 16)}
PROBLEMS = (None, "color_mismatch", "quality_issue", "size_mismatch", "complaint", "wrong_item", "delay")
PAID = ((), (Refund(1, 1, "return:x:order", D(20), NOW - timedelta(days=1)),))


def every_decision():
    for o in STATES:
        for request_ in Request:
            for answers in ANSWERS:
                yield o, request_, answers, run(o, request_, **answers)
            yield o, request_, {"no_photo": True}, without_evidence(o, request_, NOW, SHOP)
        for problem in PROBLEMS:  # R9: may a compensation be negotiated?
            for evidence in (False, True):
                for paid in PAID:
                    answers = {"problem": problem, "has_evidence": evidence, "paid": len(paid)}
                    yield o, Request.QUALITY_ISSUE, answers, compensation(
                        o, problem, NOW, SHOP, has_evidence=evidence, paid=paid, fault=None)


def test_invariants_over_every_request_state_and_answer():
    seen = set()
    for o, request_, answers, d in every_decision():
        where = f"{request_.value} {o.shipment.state.value} {answers}: {d.reason}"
        seen.add(d.action)
        assert d.rule in RULES, where
        if d.action is Action.OPEN_NEGOTIATION:  # the bargaining engine words the offer (R9)
            assert answers["problem"] and not answers["paid"], where
            assert answers["has_evidence"] or answers["problem"] == "complaint", where  # R10, R16
            assert answers["problem"] == "complaint" or o.shipment.state is ShipState.DELIVERED, where
            continue
        assert "您" in d.reason and d.reason.endswith(("。", "？", "！")), where
        assert "None" not in d.reason and "Decimal" not in d.reason, where
        if d.is_refusal:
            assert "因为" in d.reason, where  # R16
        if d.action is Action.ASK_EVIDENCE:
            assert d.needs_evidence and d.follow_up_hours, where  # R16: ask, then remind
        if d.action is Action.PROMISE_NEWS:
            assert 0 < d.follow_up_hours <= SHOP.logistics.max_news_hours, where  # R11
        if d.action is Action.SHIP_AND_WITHDRAW:
            assert answers.get("still_wants_item") is True, where  # R1: never ship without asking
        if d.refund_amount is not None:
            assert D(0) < d.refund_amount <= o.total, where
        if o.free_shipping:
            assert d.facts.get("shipping_deduction", D(0)) == 0, where  # R3
        if d.return_address is not None:
            assert d.return_address == SHOP.warehouse(o.warehouse).return_address, where
    assert seen == set(Action)  # the grid reaches every action


def test_decision_is_frozen_and_facts_can_be_stored():
    decision = run(order(delivered=DAY), "return")
    with pytest.raises(FrozenInstanceError):
        decision.action = Action.HANDOFF  # type: ignore[misc]
    stored = decision.facts_for_storage()
    assert stored["refund_amount"] == "259" and stored["return_deadline"].startswith("2026-06-07")
    assert yaml.safe_load(yaml.safe_dump(stored)) == stored


def test_request_values_match_the_intent_mapping():
    from bot.requests import INTENT_REQUESTS

    policy_requests = {r.value for r in Request}
    assert set(INTENT_REQUESTS.values()) - {"compensation", "complaint"} <= policy_requests


def test_request_may_be_passed_as_its_value():
    assert decide(order(S.NOT_SHIPPED), "refund_only", NOW, SHOP).action is Action.ASK_STILL_WANTS


def test_aware_now_with_naive_order_times():
    aware = NOW.replace(tzinfo=timezone.utc)
    assert run(order(delivered=7 * DAY), "return", now=aware).action is Action.APPROVE_RETURN_ASK_TRACKING
    assert run(order(delivered=7 * DAY + MINUTE), "return", now=aware).action is Action.RETURN_WINDOW_PASSED


def test_times_are_shown_in_the_shop_time_zone():
    decision = run(order(delivered=DAY), "return")  # delivered 2026-05-31 12:00 UTC = 20:00 in 上海
    assert "到6月7日 20:00" in decision.reason


@pytest.mark.parametrize(
    "kwargs, message",
    [
        pytest.param({"item_sku": "NOPE"}, "no item", id="unknown-sku"),
        pytest.param({"fault": "broken"}, "unknown fault", id="unknown-fault"),
    ],
)
def test_bad_inputs_are_refused_loudly(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run(order(), "warranty", **kwargs)


def test_refusals_set_lists_only_refusing_actions():
    assert REFUSALS == {
        Action.DENY_RETURN_SPECIAL_GOODS,
        Action.RETURN_WINDOW_PASSED,
        Action.OUT_OF_WARRANTY,
        Action.NOISE_NOT_FAILURE,
        Action.NO_COMPENSATION,
    }


# ---- settings ----------------------------------------------------------------------------------


def test_load_settings_reads_the_real_shop_yml():
    cfg = load_settings()
    assert (cfg.returns.no_reason_days, cfg.returns.exchange_days, cfg.returns.response_deadline_hours) == (
        7,
        15,
        48,
    )
    assert (cfg.logistics.no_pickup_alert_hours, cfg.logistics.news_promise_hours) == (72, 24)
    assert set(cfg.warehouses) == {"hangzhou", "guangzhou"}
    assert "良睦路" in cfg.warehouse("hangzhou").return_address
    assert (
        cfg.warranty_for("laptop").manufacturer_after
        and cfg.warranty_for("small_appliance").replace_not_repair
    )
    assert cfg.warranty_for("apparel").months == 0 and cfg.warranty_for("unknown") is None
    assert "same_city_max" in cfg.compensation
    with pytest.raises(FrozenInstanceError):
        cfg.returns.no_reason_days = 8  # type: ignore[misc]


def test_env_var_points_to_another_file(tmp_path, monkeypatch):
    raw = yaml.safe_load(SHOP_YML.read_text(encoding="utf-8"))
    raw["returns"]["no_reason_days"] = 15
    path = tmp_path / "shop.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("SHOP_SETTINGS", str(path))
    assert load_settings().returns.no_reason_days == 15
    assert load_settings(SHOP_YML).returns.no_reason_days == 7  # an explicit path wins


def _broken(raw: dict, change: str) -> dict:
    """Apply one named fault to a copy of the real settings."""
    if change == "no-returns":
        del raw["returns"]
    elif change == "days-as-text":
        raw["returns"]["no_reason_days"] = "seven"
    elif change == "typo-key":
        raw["returns"]["no_reason_dayz"] = raw["returns"].pop("no_reason_days")
    elif change == "promise-over-max":
        raw["logistics"]["news_promise_hours"] = 50
    elif change == "warehouse-no-address":
        del raw["warehouses"]["hangzhou"]["address"]
    elif change == "negative-months":
        raw["warranty"]["laptop"]["months"] = -1
    elif change == "flag-not-bool":
        raw["warranty"]["laptop"]["manufacturer_after"] = "yes"
    elif change == "bad-compensation":
        raw["compensation"]["same_city_mx"] = 10
    elif change == "bad-timezone":
        raw["shop"]["timezone"] = "Mars/Olympus"
    elif change == "return-after-exchange":
        raw["returns"]["failure_return_days"] = 20
    return raw


@pytest.mark.parametrize(
    "change, message",
    [
        ("no-returns", "section 'returns' is missing"),
        ("days-as-text", "returns.no_reason_days must be a whole number"),
        ("typo-key", "unknown key"),
        ("promise-over-max", "R11"),
        ("warehouse-no-address", "warehouses.hangzhou.address is missing"),
        ("negative-months", "warranty.laptop.months"),
        ("flag-not-bool", "manufacturer_after must be true or false"),
        ("bad-compensation", "compensation"),
        ("bad-timezone", "Mars/Olympus"),
        ("return-after-exchange", "R13"),
    ],
)
def test_malformed_settings_fail_with_a_clear_message(tmp_path, change, message):
    raw = _broken(yaml.safe_load(SHOP_YML.read_text(encoding="utf-8")), change)
    path = tmp_path / "shop.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SettingsError, match=message) as err:
        load_settings(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    "text, message",
    [
        pytest.param("returns: [\n", "not valid YAML", id="yaml-syntax"),
        pytest.param("- just\n- a list\n", "expected a mapping", id="top-level-list"),
        pytest.param("", "expected a mapping", id="empty-file"),
    ],
)
def test_unreadable_settings_fail_with_a_clear_message(tmp_path, text, message):
    path = tmp_path / "shop.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=message):
        load_settings(path)


def test_missing_settings_file(tmp_path):
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings(tmp_path / "nowhere.yml")


def test_unknown_warehouse_is_named():
    with pytest.raises(SettingsError, match="no warehouse 'shenzhen'"):
        SHOP.warehouse("shenzhen")
