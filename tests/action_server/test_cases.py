"""Every case and every yuan right (issue #10), through the actions with the real SDK objects.

One case per request; compensation only where bot.policy allows it; a photo is a photo; every
granted amount is one refund row; the same action call repeated changes nothing; a decision
interrupted half-way writes nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.identify import ActionSetRequest
from actions.service import ActionHandleAnswer, ActionHandleRequest
from bot.domain import CaseChange, Grant
from bot.store.repository import CaseMismatch, OrderRepository, RefundLimitExceeded
from tests.action_server.conftest import make_tracker, slot_events, texts, user

COLOUR = "1001000000000004"  # 羊毛衫 259 元, delivered 3 days ago
COAT = "1001000000000011"  # 羊绒大衣 899 元, delivered 2 days ago
IN_TRANSIT = "1001000000000002"


def _slots(order_id, request, **extra):
    return {"order_id": order_id, "verified_order": order_id, "phone": order_id[-4:],
            "pending_request": request, "problem": request, **extra}


async def _run(action, domain, slots, events, sender="shopper-a"):
    tracker = make_tracker(slots=slots, events=events, sender=sender)
    dispatcher = CollectingDispatcher()
    result = await action().run(dispatcher, tracker, domain)
    return {**slots, **slot_events(result)}, texts(dispatcher), dispatcher


def _payloads(dispatcher):
    return [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]


# ---- evidence is evidence (R10, R16) ----------------------------------------------------------


async def test_agreeing_is_not_a_photo_and_no_photo_is_answered_once(rt, domain, repo):
    complaint = user("毛衣颜色和图片不一样", "color_mismatch", message_id="m1")
    state, asked, _ = await _run(ActionHandleRequest, domain, _slots(COLOUR, "color_mismatch"), [complaint])
    case_id = int(state["case_id"])
    assert state["awaiting"] == "evidence" and repo.get_case(case_id).status == "waiting_evidence"

    state, said, _ = await _run(ActionHandleAnswer, domain, state, [complaint, user("好吧，可以", "affirm")])
    assert "照片收到" not in said and "色差" not in said  # "好的" never counts as a photo
    assert repo.get_case(case_id).status == "waiting_evidence"

    events = [complaint, user("现在拍不了照片，发不了图", "no_photo", message_id="m3")]
    state, first, dispatcher = await _run(ActionHandleAnswer, domain, state, events)
    assert first != asked and "白天自然光" not in first  # never the same request again
    assert "提醒" in first and "/ask_human" in _payloads(dispatcher) and "/request_return" in _payloads(dispatcher)
    reminders = [f for f in repo.follow_ups_for_case(case_id) if f.kind == "photo_reminder"]
    assert len(reminders) == 1 and reminders[0].done_at is None  # one reminder, recorded with its due time

    events.append(user("还是拍不了", "no_photo", message_id="m4"))
    _, second, _ = await _run(ActionHandleAnswer, domain, state, events)
    assert second != first and len(repo.follow_ups_for_case(case_id)) == 1


async def test_in_the_widget_only_an_upload_counts(rt, domain, repo):
    complaint = user("颜色不对", "color_mismatch", message_id="w1", channel="widget")
    state, _, _ = await _run(ActionHandleRequest, domain, _slots(COLOUR, "color_mismatch"), [complaint])
    said_sent = user("照片发了", "send_photo", message_id="w2", channel="widget")
    state, said, _ = await _run(ActionHandleAnswer, domain, state, [complaint, said_sent])
    assert "还没" in said and state["awaiting"] == "evidence"
    repo.add_evidence(None, "var/uploads/x.jpg", "image/jpeg", 1000, conversation_id="shopper-a")
    uploaded = user("/send_photo", "send_photo", message_id="w3", channel="widget")
    state, said, dispatcher = await _run(ActionHandleAnswer, domain, state, [complaint, said_sent, uploaded])
    assert "/keep_with_compensation" in _payloads(dispatcher)
    assert len(repo.evidence_for_case(int(state["case_id"]))) == 1  # the upload now belongs to the case


# ---- compensation only through the rules (R9) -------------------------------------------------


@pytest.mark.parametrize("order_id, problem, expect", [
    (COAT, None, "哪里让您不满意"),  # what is wrong? nothing is offered blind
    (IN_TRANSIT, "color_mismatch", "还没有签收"),  # not received yet
    (COAT, "wrong_item", "发错或少发"),  # exchanged or re-shipped, not compensated
    (COAT, "color_mismatch", "自然光"),  # R10: the photo first
])
async def test_compensation_asked_directly_goes_through_the_policy(rt, domain, repo, order_id, problem, expect):
    slots = {**_slots(order_id, "compensation"), "problem": problem}
    state, said, _ = await _run(ActionHandleRequest, domain, slots, [user("不退了，给点补偿吧", "keep_with_compensation")])
    assert expect in said and not state.get("negotiation")
    assert "元" not in said.replace("元的", "")  # no amount offered
    assert repo.refunds_for_order(order_id) == []


async def _deal(domain, sender, message_prefix):
    events = [user("大衣颜色有色差", "color_mismatch", message_id=f"{message_prefix}1"),
              user("照片发你了", "send_photo", message_id=f"{message_prefix}2"),
              user("不退了 给点补偿吧", "keep_with_compensation", message_id=f"{message_prefix}3")]
    slots = {**_slots(COAT, "compensation"), "problem": "color_mismatch"}
    state, offer, _ = await _run(ActionHandleRequest, domain, slots, events, sender=sender)
    return state, offer, events


async def test_one_compensation_per_item_whatever_the_conversation(rt, domain, repo):
    state, offer, events = await _deal(domain, "shopper-a", "a")
    assert state["awaiting"] == "bargain" and "元" in offer
    events.append(user("好的", "affirm", message_id="a4"))
    await _run(ActionHandleAnswer, domain, state, events)
    await _run(ActionHandleAnswer, domain, state, events)  # the same call again (a Rasa retry)
    refunds = repo.refunds_for_order(COAT)
    assert len(refunds) == 1 and refunds[0].key == f"bargain:{COAT}:XH001101"

    state, said, _ = await _deal(domain, "shopper-b", "b")  # a second conversation about the same coat
    assert not state.get("negotiation") and "不能重复补偿" in said
    assert len(repo.refunds_for_order(COAT)) == 1


# ---- one case per request ---------------------------------------------------------------------


async def test_a_second_request_on_another_order_opens_its_own_case(rt, domain, repo):
    first, _, _ = await _run(ActionHandleRequest, domain, _slots(COLOUR, "color_mismatch"),
                             [user("颜色不对", "color_mismatch", message_id="c1")])
    colour_case = repo.get_case(int(first["case_id"]))
    # the shopper moves on to another order and another problem: the set-request step starts afresh
    moved, _, _ = await _run(ActionSetRequest, domain, first, [user("另一单物流不动了", "shipping_delay")])
    assert moved["case_id"] is None and moved["awaiting"] is None and moved["negotiation"] is None
    second, _, _ = await _run(ActionHandleRequest, domain, {**_slots(IN_TRANSIT, "delay"), "case_id": first["case_id"]},
                              [user("物流不动了", "shipping_delay", message_id="c2")])
    assert second["case_id"] != first["case_id"]
    assert repo.get_case(int(first["case_id"])) == colour_case  # untouched
    assert repo.get_case(int(second["case_id"])).order_id == IN_TRANSIT
    with pytest.raises(CaseMismatch):
        repo.update_case(colour_case.case_id, status="open", order_id=IN_TRANSIT)


async def test_the_same_problem_in_a_new_conversation_continues_the_case(rt, domain, repo):
    first, _, _ = await _run(ActionHandleRequest, domain, _slots(COLOUR, "color_mismatch"),
                             [user("颜色不对", "color_mismatch", message_id="d1")], sender="monday")
    again, _, _ = await _run(ActionHandleRequest, domain, _slots(COLOUR, "color_mismatch"),
                             [user("还是那件毛衣色差的事", "color_mismatch", message_id="d2")], sender="tuesday")
    assert again["case_id"] == first["case_id"]  # R15: continued, not a second case
    assert len(repo.cases_for_order(COLOUR)) == 1


# ---- money once, everywhere -------------------------------------------------------------------


@pytest.mark.parametrize("order_id, request_, answer, state_", [
    ("1001000000000001", "refund_only", "deny", "approved"),  # R1: not wanted, refund at once
    ("1001000000000017", "refund_only", None, "approved"),  # R5: refused parcel coming back
    ("1001000000000012", "refund_only", None, "awaiting_return"),  # R2/R12: after the recall
])
async def test_every_granted_amount_is_one_refund_row(rt, domain, repo, order_id, request_, answer, state_):
    events = [user("退款", "request_refund_only", message_id="r1")]
    state, _, _ = await _run(ActionHandleRequest, domain, _slots(order_id, request_), events)
    if answer:
        events.append(user("不要了", answer, message_id="r2"))
        state, _, _ = await _run(ActionHandleAnswer, domain, state, events)
        await _run(ActionHandleAnswer, domain, state, events)  # retried: nothing more
    case = repo.get_case(int(state["case_id"]))
    refunds = repo.refunds_for_order(order_id)
    assert [(r.amount, r.state) for r in refunds] == [(case.refund_amount, state_)]


async def test_the_same_action_call_twice_changes_nothing(rt, domain, repo):
    events = [user("物流三天没动了", "shipping_delay", message_id="same")]
    one, _, _ = await _run(ActionHandleRequest, domain, _slots(IN_TRANSIT, "delay"), events)
    two, _, _ = await _run(ActionHandleRequest, domain, _slots(IN_TRANSIT, "delay"), events)
    assert one["case_id"] == two["case_id"] and len(repo.cases_for_order(IN_TRANSIT)) == 1
    assert len(repo.follow_ups_for_case(int(one["case_id"]))) == 1


async def test_a_decision_interrupted_half_way_writes_nothing(rt, domain, repo, monkeypatch):
    def fail(*_args, **_kwargs):
        raise RuntimeError("the action server died here")

    monkeypatch.setattr(OrderRepository, "_promise", fail)  # after the case and refund, before commit
    events = [user("物流三天没动了", "shipping_delay", message_id="x1")]
    with pytest.raises(RuntimeError):
        await _run(ActionHandleRequest, domain, _slots(IN_TRANSIT, "delay"), events)
    assert repo.cases_for_order(IN_TRANSIT) == []
    monkeypatch.undo()
    state, _, _ = await _run(ActionHandleRequest, domain, _slots(IN_TRANSIT, "delay"), events)  # the retry
    assert len(repo.cases_for_order(IN_TRANSIT)) == 1 and len(repo.follow_ups_for_case(int(state["case_id"]))) == 1


def test_refunds_never_add_up_to_more_than_was_paid(repo):
    order = "1001000000000004"  # 259 元, free shipping
    repo.record_decision(CaseChange(order, "return", "R6", "waiting_return", "c", grant=Grant(Decimal(200), "a")))
    with pytest.raises(RefundLimitExceeded):
        repo.record_decision(CaseChange(order, "compensation", "R9", "closed", "c", grant=Grant(Decimal(60), "b")))
    assert [r.key for r in repo.refunds_for_order(order)] == ["a"]
    assert [c.kind for c in repo.cases_for_order(order)] == ["return"]  # nothing of the refused one


def test_an_agents_refund_counts_against_what_the_bot_already_refunded(repo):
    order = "1001000000000004"  # 259 元
    bot = repo.record_decision(CaseChange(order, "return", "R6", "closed", "c", grant=Grant(Decimal(200), "r")))
    agent = Grant(Decimal(50), "console:1:50", actor="小王")
    kept = repo.grant_on_case(bot.case.case_id, agent, {"refund_approved_by": "小王"})
    assert kept.refund_created and kept.refund.actor == "小王" and kept.case.refund_amount == Decimal(250)
    assert not repo.grant_on_case(bot.case.case_id, agent).refund_created  # a double click pays once
    with pytest.raises(RefundLimitExceeded):
        repo.grant_on_case(bot.case.case_id, Grant(Decimal(10), "console:1:10", actor="小王"))
    assert sum(r.amount for r in repo.refunds_for_order(order)) == Decimal(250)
