"""Two problems in one message, and an upset shopper (issue #13 points 5 and 6), through the actions.

"鞋子还没到，而且颜色好像也不对": the first problem is handled as its own case, the second is
remembered (``next_request``) and started on the same proven order as soon as the first needs
nothing more from the shopper, as its own case (issue #10: one case per request).
"""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.identify import ActionAskOrderId, ActionAskPhone, ActionSetRequest
from actions.service import ActionHandleAnswer, ActionHandleRequest, ActionVagueFollowup
from tests.action_server.conftest import make_tracker, slot_events, texts, user

IN_TRANSIT = "1001000000000002"
COLOUR = "1001000000000004"  # 羊毛衫, delivered 3 days ago
TWO = "鞋子还没到，而且颜色好像也不对"


async def _run(action, domain, slots, events, sender="two-problems"):
    tracker = make_tracker(slots=slots, events=events, sender=sender)
    dispatcher = CollectingDispatcher()
    result = await action().run(dispatcher, tracker, domain)
    return {**slots, **slot_events(result)}, texts(dispatcher), dispatcher


def _proven(order_id):
    return {"order_id": order_id, "verified_order": order_id, "phone": order_id[-4:]}


async def test_the_second_problem_is_remembered_when_the_request_is_set(rt, domain):
    state, _, _ = await _run(ActionSetRequest, domain, {}, [user(TWO, "shipping_delay")])
    assert state["pending_request"] == "delay" and state["problem"] == "delay"
    assert state["next_request"] == "color_mismatch" and state["case_id"] is None


async def test_a_reason_for_an_exchange_is_not_a_second_problem(rt, domain):
    state, _, _ = await _run(ActionSetRequest, domain, {}, [user("尺码小了，想换大一码", "request_exchange")])
    assert state.get("next_request") is None


async def test_the_first_is_handled_then_the_second_as_its_own_case(rt, domain, repo):
    events = [user(TWO, "shipping_delay", message_id="t1")]
    slots = {
        **_proven(IN_TRANSIT),
        "pending_request": "delay",
        "problem": "delay",
        "next_request": "color_mismatch",
    }
    state, said, _ = await _run(ActionHandleRequest, domain, slots, events)
    # the delay needs nothing more from the shopper (news within 24 h, R11): the colour comes at once
    chase, colour = said.split("颜色的问题")
    assert "24 小时" in chase and "还没有签收" in colour
    # the parcel's latest scan is told once in the reply, not again for the second case
    assert "最新物流" in chase and "最新物流" not in colour
    cases = {c.kind: c for c in repo.cases_for_order(IN_TRANSIT)}
    assert set(cases) == {"delay", "color_mismatch"}  # two requests, two cases (issue #10)
    assert (
        state["case_id"] == cases["color_mismatch"].case_id and state["pending_request"] == "color_mismatch"
    )
    assert state["next_request"] is None and state["awaiting"] is None


async def test_while_the_first_waits_the_second_waits_then_starts(rt, domain, repo):
    """Colour first (photo, then a choice, then the return's tracking number); the size case starts
    once the colour case needs nothing more from the shopper."""
    first = user("毛衣颜色跟图片差好多，另外尺码也偏小", "color_mismatch", message_id="p1")
    state, _, _ = await _run(ActionSetRequest, domain, _proven(COLOUR), [first])
    assert state["next_request"] == "size_mismatch"
    state, said, _ = await _run(ActionHandleRequest, domain, state, [first])
    assert state["awaiting"] == "evidence" and "尺码的问题" in said and "记" in said
    colour_case = int(state["case_id"])

    repo.add_evidence(None, "var/uploads/p.jpg", "image/jpeg", 1000, conversation_id="two-problems")
    events = [first, user("照片发了", "send_photo", message_id="p2")]
    state, said, _ = await _run(ActionHandleAnswer, domain, state, events)
    assert state["awaiting"] == "option" and "尺码" not in said  # reminded once, not on every turn
    assert state["next_request"] == "size_mismatch"

    events.append(user("退货退款", "request_return", message_id="p3"))
    state, _, _ = await _run(ActionSetRequest, domain, state, events)
    assert state["pending_request"] == "return" and state["next_request"] == "size_mismatch"
    state, said, _ = await _run(ActionHandleRequest, domain, state, events)
    assert state["awaiting"] == "return_tracking" and "尺码的问题" in said

    events.append(user("单号 SF1234567890123", "inform_tracking", message_id="p4"))
    state, said, _ = await _run(
        ActionHandleAnswer, domain, {**state, "tracking_no": "SF1234567890123"}, events
    )
    assert "SF1234567890123" in said and "尺码的问题" in said
    assert state["pending_request"] == "size_mismatch" and state["next_request"] is None
    size_case = repo.get_case(int(state["case_id"]))
    assert size_case.kind == "size_mismatch" and size_case.case_id != colour_case


async def test_turning_to_the_second_first_remembers_the_unfinished_one(rt, domain):
    slots = {
        **_proven(COLOUR),
        "pending_request": "color_mismatch",
        "problem": "color_mismatch",
        "awaiting": "evidence",
        "case_id": 3.0,
        "next_request": "size_mismatch",
    }
    state, _, _ = await _run(ActionSetRequest, domain, slots, [user("先说尺码吧，太小了", "size_mismatch")])
    assert state["pending_request"] == "size_mismatch" and state["case_id"] is None
    assert state["next_request"] == "color_mismatch"  # the colour case is open and comes back after


async def test_a_long_angry_message_gets_an_apology_what_we_understood_and_a_person(rt, domain):
    angry = (
        "买了双鞋质量有问题不说，按要求把鞋和发票一起寄回去了，结果客服愣是说我没寄发票！"
        "来回折腾了一个星期，到底还要我怎么样？？"
    )
    state, _, _ = await _run(ActionSetRequest, domain, {}, [user(angry, "quality_issue")])
    _, said, dispatcher = await _run(ActionAskOrderId, domain, state, [user(angry, "quality_issue")])
    assert said.startswith("真的很抱歉") and "质量问题" in said and "订单号" in said
    assert "/ask_human" in [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]


async def test_a_calm_message_gets_no_canned_apology(rt, domain):
    calm = user("鞋子开胶了", "quality_issue")
    state, _, _ = await _run(ActionSetRequest, domain, {}, [calm])
    _, said, dispatcher = await _run(ActionAskOrderId, domain, state, [calm])
    assert "抱歉" not in said and not any(m.get("buttons") for m in dispatcher.messages)
    _, said, dispatcher = await _run(ActionAskPhone, domain, {**state, "order_id": COLOUR}, [calm])
    assert [m.get("response") for m in dispatcher.messages] == ["utter_ask_phone"]


async def test_an_angry_message_with_the_order_number_apologises_before_the_proof(rt, domain):
    angry = f"订单{COLOUR}的毛衣才穿一次就起球了！说好的品质保证呢，简直离谱"
    state, _, _ = await _run(ActionSetRequest, domain, {}, [user(angry, "quality_issue")])
    _, said, dispatcher = await _run(
        ActionAskPhone, domain, {**state, "order_id": COLOUR}, [user(angry, "quality_issue")]
    )
    assert "抱歉" in said and [m.get("response") for m in dispatcher.messages][-1] == "utter_ask_phone"


async def test_a_remembered_problem_is_forgotten_when_the_shopper_turns_to_another_order(rt, domain):
    from actions.identify import ValidateOrderForm

    slots = {**_proven(IN_TRANSIT), "pending_request": "delay", "next_request": "color_mismatch"}
    tracker = make_tracker(
        slots=slots, events=[user(f"另一单 {COLOUR}", "inform_order")], active_loop="order_form"
    )
    result = ValidateOrderForm().validate_order_id(COLOUR, CollectingDispatcher(), tracker, domain)
    assert result["order_id"] == COLOUR and result["next_request"] is None
    same = make_tracker(slots=slots, events=[user(IN_TRANSIT, "inform_order")], active_loop="order_form")
    assert "next_request" not in ValidateOrderForm().validate_order_id(
        IN_TRANSIT, CollectingDispatcher(), same, domain
    )


# ---- "那颜色的问题呢": a message that leans on the earlier chat (action_vague_followup) ----------


async def _colour_case_waiting_with_size_remembered(domain):
    first = user("毛衣颜色跟图片差好多，另外尺码也偏小", "color_mismatch", message_id="v1")
    state, _, _ = await _run(ActionSetRequest, domain, _proven(COLOUR), [first])
    state, _, _ = await _run(ActionHandleRequest, domain, state, [first])
    assert state["awaiting"] == "evidence" and state["next_request"] == "size_mismatch"
    return state, [first]


async def test_a_vague_followup_starts_the_remembered_problem_and_keeps_the_unfinished_one(rt, domain, repo):
    state, events = await _colour_case_waiting_with_size_remembered(domain)
    colour_case = int(state["case_id"])
    events.append(user("之前说的另一个问题呢", "vague_followup", message_id="v2"))
    state, said, _ = await _run(ActionVagueFollowup, domain, state, events)
    assert "尺码的问题" in said and "订单号" not in said  # the order is proven: not asked again
    assert state["pending_request"] == "size_mismatch" and state["next_request"] == "color_mismatch"
    size_case = repo.get_case(int(state["case_id"]))
    assert size_case.kind == "size_mismatch" and size_case.case_id != colour_case
    assert repo.get_case(colour_case).status == "waiting_evidence"  # nothing of the colour case is lost


async def test_a_vague_followup_that_names_the_problem_starts_that_one(rt, domain, repo):
    state, events = await _colour_case_waiting_with_size_remembered(domain)
    events.append(user("那尺码的问题呢", "vague_followup", message_id="v3"))
    state, said, _ = await _run(ActionVagueFollowup, domain, state, events)
    assert state["pending_request"] == "size_mismatch" and state["next_request"] == "color_mismatch"
    assert "尺码" in said


async def test_a_vague_followup_about_a_problem_without_a_proven_order_keeps_it_and_asks_the_order(rt, domain):
    state, said, dispatcher = await _run(ActionVagueFollowup, domain, {},
                                         [user("颜色的问题怎么办", "vague_followup")])
    assert state["pending_request"] == "color_mismatch" and state["problem"] == "color_mismatch"
    assert "颜色" in said and "订单号" in said
    # the order number comes next: the order rules keep the problem that was asked about
    state, _, _ = await _run(ActionSetRequest, domain, state,
                             [user("颜色的问题怎么办", "vague_followup"), user(COLOUR, "inform_order")])
    assert state["pending_request"] == "color_mismatch"


async def test_a_vague_followup_with_nothing_to_go_on_asks(rt, domain):
    _, said, dispatcher = await _run(ActionVagueFollowup, domain, {}, [user("这单呢", "vague_followup")])
    assert [m.get("response") for m in dispatcher.messages] == ["utter_ask_which_problem"]
    # with a proven order and nothing remembered, only the problem is asked for, naming the order
    _, said, dispatcher = await _run(ActionVagueFollowup, domain, _proven(COLOUR), [user("这单呢", "vague_followup")])
    assert COLOUR[-4:] in said and "订单号" not in said
    assert "/size_mismatch" in [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]
