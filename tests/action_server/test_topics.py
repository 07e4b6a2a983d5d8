"""Questions about an order that are not after-sales cases (bot/topics.py, issue #13): the usual way
while the order is unknown, then what *this* order allows, and a person for what only people can do.

Real shoppers paste the order number with the question ("订单号：… 发票抬头开错了"): the number is
taken, so only the proof is asked, never the number again.
"""

from __future__ import annotations

from decimal import Decimal

from rasa_sdk.executor import CollectingDispatcher

from actions.identify import ActionSetRequest
from actions.service import ActionHandleRequest
from bot.domain import Grant
from tests.action_server.conftest import make_tracker, slot_events, texts, user

NOT_SHIPPED = "1001000000000001"
IN_TRANSIT = "1001000000000002"
DELIVERED = "1001000000000004"


async def _run(action, domain, slots, events, sender="topics"):
    tracker = make_tracker(slots=slots, events=events, sender=sender)
    dispatcher = CollectingDispatcher()
    result = await action().run(dispatcher, tracker, domain)
    return {**slots, **slot_events(result)}, texts(dispatcher), dispatcher, result


def _proven(order_id, request):
    return {"order_id": order_id, "verified_order": order_id, "phone": order_id[-4:], "pending_request": request}


def _buttons(dispatcher):
    return [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]


async def test_the_usual_way_first_while_the_order_is_unknown(rt, domain):
    state, _, dispatcher, _ = await _run(ActionSetRequest, domain, {}, [user("发票抬头开错了", "invoice")])
    assert [m.get("response") for m in dispatcher.messages] == ["utter_invoice"]
    assert state["pending_request"] == "invoice" and state.get("problem") is None
    # the order already proven: no general lecture, the answer for this order comes next
    _, _, dispatcher, _ = await _run(ActionSetRequest, domain, _proven(DELIVERED, None),
                                     [user("发票抬头开错了", "invoice")])
    assert dispatcher.messages == []


async def test_a_topic_keeps_the_remembered_problem(rt, domain):
    slots = {**_proven(DELIVERED, "color_mismatch"), "problem": "color_mismatch", "next_request": "size_mismatch"}
    state, _, _, _ = await _run(ActionSetRequest, domain, slots, [user("退款到账了吗", "refund_status")])
    assert state["pending_request"] == "refund_status"
    assert state["problem"] == "color_mismatch" and state["next_request"] == "size_mismatch"


async def test_an_address_change_before_shipping_goes_to_a_person(rt, domain):
    _, said, _, result = await _run(ActionHandleRequest, domain, _proven(NOT_SHIPPED, "address"),
                                    [user("我想改一下收货地址", "change_address")])
    assert "还来得及改" in said and NOT_SHIPPED[-4:] in said
    assert {"event": "followup", "name": "action_handoff"} in [
        {"event": e.get("event"), "name": e.get("name")} for e in result
    ]


async def test_an_address_change_in_transit_explains_the_courier_and_offers_a_person(rt, domain):
    _, said, dispatcher, result = await _run(ActionHandleRequest, domain, _proven(IN_TRANSIT, "address"),
                                             [user("地址填错了能改吗", "change_address")])
    assert "改派" in said and "不一定" in said and "/ask_human" in _buttons(dispatcher)
    assert not any(e.get("event") == "followup" for e in result)


async def test_a_delivered_order_cannot_change_its_address(rt, domain):
    _, said, _, _ = await _run(ActionHandleRequest, domain, _proven(DELIVERED, "address"),
                               [user("能改地址吗", "change_address")])
    assert "签收" in said and "改不了" in said


async def test_delivery_time_in_transit_names_the_carrier_and_tracking_number(rt, repo, domain):
    order = repo.get_order(IN_TRANSIT)
    _, said, _, _ = await _run(ActionHandleRequest, domain, _proven(IN_TRANSIT, "delivery_time"),
                               [user("明天不在家，能改天送吗", "change_delivery_time")])
    assert order.shipment.carrier in said and order.shipment.tracking_no in said


async def test_refund_status_reads_the_shops_own_refunds(rt, repo, domain):
    _, said, dispatcher, _ = await _run(ActionHandleRequest, domain, _proven(DELIVERED, "refund_status"),
                                        [user("退款怎么还没到", "refund_status")])
    assert "查不到" in said and "48 小时" in said and "/ask_human" in _buttons(dispatcher)

    case = repo.open_case(DELIVERED, "color_mismatch", "R9", "topics", status="closed")
    repo.grant_on_case(case.case_id, Grant(Decimal("25.50"), f"test-refund-{case.case_id}"))
    _, said, _, _ = await _run(ActionHandleRequest, domain, _proven(DELIVERED, "refund_status"),
                               [user("退款怎么还没到", "refund_status")])
    assert "已经退款 25.5 元" in said and "原支付方式" in said and "查不到" not in said


async def test_invoice_and_price_protection_offer_a_person_and_promise_nothing(rt, domain):
    for topic, text in (("invoice", "发票抬头开错了"), ("price_protection", "买完就降价了，能补差价吗")):
        _, said, dispatcher, result = await _run(ActionHandleRequest, domain, _proven(DELIVERED, topic),
                                                 [user(text, topic)])
        assert "/ask_human" in _buttons(dispatcher) and "转人工" in said
        assert not any(w in said for w in ("已为您补", "已经改好", "保证"))
        assert not any(e.get("event") == "followup" for e in result)


async def test_a_topic_answered_then_the_remembered_problem_starts(rt, repo, domain):
    slots = {**_proven(DELIVERED, "installation"), "next_request": "color_mismatch"}
    state, said, _, _ = await _run(ActionHandleRequest, domain, slots, [user("什么时候来安装", "installation")])
    assert "服务单" in said and "颜色的问题" in said
    assert state["pending_request"] == "color_mismatch" and state["next_request"] is None


async def test_a_topic_in_the_middle_of_a_case_comes_back_to_the_case(rt, repo, domain):
    """"退钱要多久到账" while the colour case waits for a photo: the refund question is answered from
    the case (no refund yet, the photo is awaited) and the colour case's question comes back."""
    slots = {**_proven(DELIVERED, "color_mismatch"), "problem": "color_mismatch"}
    first = user("颜色跟图片差太多了", "color_mismatch", message_id="c1")
    state, _, _, _ = await _run(ActionHandleRequest, domain, slots, [first])
    assert state["awaiting"] == "evidence"
    events = [first, user("退钱要多久到账", "refund_status", message_id="c2")]
    state, _, _, _ = await _run(ActionSetRequest, domain, state, events)
    assert state["pending_request"] == "refund_status" and state["interrupted"] == "color_mismatch"
    state, said, _, _ = await _run(ActionHandleRequest, domain, state, events)
    assert "还没有办理退款" in said and "照片" in said and "颜色的问题" in said
    assert state["pending_request"] == "color_mismatch" and state["awaiting"] == "evidence"
    assert state["interrupted"] is None
    assert len([c for c in repo.cases_for_order(DELIVERED) if c.kind == "color_mismatch"]) == 1  # the same case


async def test_a_topic_in_the_middle_of_a_case_keeps_the_problem_remembered_for_later(rt, repo, domain):
    """Colour and size in one message, the colour case waits for a photo, then a refund question:
    after the answer the colour case comes back (not the size), and the size is still remembered."""
    slots = {**_proven(DELIVERED, "color_mismatch"), "problem": "color_mismatch", "next_request": "size_mismatch"}
    first = user("颜色跟图片差太多了，尺码也偏小", "color_mismatch", message_id="k1")
    state, _, _, _ = await _run(ActionHandleRequest, domain, slots, [first], sender="keep")
    assert state["awaiting"] == "evidence" and state["next_request"] == "size_mismatch"
    events = [first, user("退钱要多久到账", "refund_status", message_id="k2")]
    state, _, _, _ = await _run(ActionSetRequest, domain, state, events, sender="keep")
    assert state["interrupted"] == "color_mismatch" and state["next_request"] == "size_mismatch"
    state, said, _, _ = await _run(ActionHandleRequest, domain, state, events, sender="keep")
    assert "颜色的问题" in said and "尺码" not in said.split("颜色的问题")[-1]
    assert state["pending_request"] == "color_mismatch" and state["awaiting"] == "evidence"
    assert state["next_request"] == "size_mismatch" and state["interrupted"] is None
    assert {c.kind for c in repo.cases_for_order(DELIVERED)} == {"color_mismatch"}  # no size case yet


async def test_a_question_about_another_order_does_not_bring_this_case_back_on_it(rt, repo, domain):
    slots = {**_proven(DELIVERED, "color_mismatch"), "problem": "color_mismatch", "awaiting": "evidence"}
    state, _, _, _ = await _run(ActionSetRequest, domain, slots,
                                [user(f"订单号 {IN_TRANSIT} 什么时候能送到", "change_delivery_time")])
    assert state.get("interrupted") is None
