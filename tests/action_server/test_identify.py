"""Which order, and is it the shopper's: the form validation, the lock-out counted in the database, the shop's signed-in customer."""

from __future__ import annotations

from datetime import timedelta

from rasa_sdk.executor import CollectingDispatcher

from actions.identify import ActionAskOrderId, ActionAskPhone, ActionSetRequest, ValidateOrderForm
from bot import text as zh
from tests.action_server.conftest import make_tracker, slot_events, texts, user
from tests.conftest import NOW


async def _validate(domain, slots, message, intent="inform_order", entities=None):
    """Run the form validation as Rasa does: slot mappings have already set the entities' slots."""
    filled = [{"event": "slot", "name": e["entity"], "value": e["value"]} for e in entities or []]
    current = {**slots, **{e["name"]: e["value"] for e in filled}}
    tracker = make_tracker(
        slots=current, events=[user(message, intent, entities), *filled], active_loop="order_form"
    )
    dispatcher = CollectingDispatcher()
    events = await ValidateOrderForm().run(dispatcher, tracker, domain)
    return slot_events(events), texts(dispatcher), dispatcher


async def test_set_request_remembers_the_intent(rt, domain):
    tracker = make_tracker(events=[user("色差太大了", "color_mismatch")])
    events = await ActionSetRequest().run(CollectingDispatcher(), tracker, domain)
    assert slot_events(events)["pending_request"] == "color_mismatch"


async def test_order_number_alone_keeps_the_pending_request(rt, domain):
    tracker = make_tracker(
        slots={"pending_request": "return"}, events=[user("1001000000000004", "inform_order")]
    )
    events = await ActionSetRequest().run(CollectingDispatcher(), tracker, domain)
    assert slot_events(events)["pending_request"] == "return"


async def test_known_order_asks_for_proof_and_shows_nothing(rt, domain):
    slots, said, _ = await _validate(
        domain,
        {"requested_slot": "order_id"},
        "1001000000000004",
        entities=[{"entity": "order_id", "value": "1001000000000004"}],
    )
    assert slots["order_id"] == "1001000000000004" and slots.get("phone", None) is None
    assert "verified_order" not in slots and "羊毛衫" not in said


async def test_an_unknown_order_gets_the_same_questions_as_a_real_one(rt, domain):
    """Whether an order exists is not said: both are asked for the proof, both fail alike."""
    replies = []
    for order in ("1001000000000004", "1001000000000099"):
        slots, said, _ = await _validate(domain, {"requested_slot": "order_id"}, order)
        assert slots == {"order_id": order, "phone": None, "order_locked": False}
        assert said == ""
        rt.rng.seed(1)
        slots, said, _ = await _validate(
            domain,
            {"requested_slot": "phone", "order_id": order},
            "1234",
            entities=[{"entity": "phone", "value": "1234"}],
        )
        replies.append(said)
    assert replies[0] == replies[1] and "2 次" in replies[0]


async def test_right_tail_verifies(rt, domain):
    slots, _, _ = await _validate(
        domain,
        {"requested_slot": "phone", "order_id": "1001000000000004"},
        "0004",
        entities=[{"entity": "phone", "value": "0004"}],
    )
    assert slots["verified_order"] == "1001000000000004" and slots["proof_failures"] == 0


async def _wrong(domain, order="1001000000000004", sender="test-user", proof="1234"):
    filled = {"event": "slot", "name": "phone", "value": proof}
    tracker = make_tracker(
        slots={"requested_slot": "phone", "order_id": order, "phone": proof},
        events=[user(proof, "inform_order", [{"entity": "phone", "value": proof}]), filled],
        active_loop="order_form",
        sender=sender,
    )
    dispatcher = CollectingDispatcher()
    events = await ValidateOrderForm().run(dispatcher, tracker, domain)
    return slot_events(events), texts(dispatcher), dispatcher


async def test_wrong_proofs_are_counted_per_order_across_conversations(rt, domain):
    """A new conversation does not start the count again (the brute-force of issue #11)."""
    for n, left in ((1, 2), (2, 1)):
        slots, said, _ = await _wrong(domain, sender=f"visitor-{n}")
        assert slots["phone"] is None and not slots.get("order_locked") and f"{left} 次" in said
    slots, said, dispatcher = await _wrong(domain, sender="visitor-3")
    assert slots["order_locked"] is True and "verified_order" not in slots and "羊毛衫" not in said
    assert [m["buttons"] for m in dispatcher.messages] == [[{"title": "转人工客服", "payload": "/ask_human"}]]
    assert len(dispatcher.messages) == 1 and "30 分钟" in said
    # locked now: even the right proof, from yet another conversation, is not checked
    slots, said, _ = await _wrong(domain, sender="visitor-4", proof="0004")
    assert slots["order_locked"] is True and "verified_order" not in slots
    # another order is not affected
    slots, _, _ = await _wrong(domain, order="1001000000000002", sender="visitor-5", proof="0002")
    assert slots["verified_order"] == "1001000000000002"


async def test_the_lock_ends_after_the_lockout(rt, domain, repo):
    for n in range(3):
        await _wrong(domain, sender=f"visitor-{n}")
    later = NOW + timedelta(minutes=rt.settings.identity.lockout_minutes + 1)
    rt.clock = lambda: later
    repo._clock = lambda: later
    slots, _, _ = await _wrong(domain, sender="owner", proof="0004")
    assert slots["verified_order"] == "1001000000000004"
    assert repo.proof_failures_since("1001000000000004", NOW - timedelta(days=1)) == []


async def test_a_phone_alone_lists_nothing_for_a_visitor(rt, domain):
    slots, said, dispatcher = await _validate(
        domain,
        {"requested_slot": "order_id"},
        "13800000013",
        entities=[{"entity": "phone", "value": "13800000013"}],
    )
    assert not any(m.get("buttons") for m in dispatcher.messages)
    assert "1001000000000013" not in str(dispatcher.messages) and "订单号" in said
    assert slots["phone"] is None


def _signed_in(tracker_events, customer_id):
    tracker_events[0]["metadata"] = {"customer_id": customer_id}
    return tracker_events


async def test_a_signed_in_customer_picks_from_their_own_orders(rt, domain, repo):
    owner = repo.get_order("1001000000000013")
    customer = str(_customer_of(repo, "1001000000000013"))
    tracker = make_tracker(
        events=_signed_in([user("我要退货", "request_return")], customer), active_loop="order_form"
    )
    dispatcher = CollectingDispatcher()
    await ActionAskOrderId().run(dispatcher, tracker, domain)
    payloads = [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]
    assert len(payloads) == 2 and all("100100000000001" in p for p in payloads) and owner is not None
    # choosing one needs no phone proof; someone else's order still does
    for order, verified in (("1001000000000014", True), ("1001000000000004", False)):
        events = _signed_in(
            [user(order, "inform_order"), {"event": "slot", "name": "order_id", "value": order}], customer
        )
        tracker = make_tracker(
            slots={"requested_slot": "order_id", "order_id": order}, events=events, active_loop="order_form"
        )
        slots = slot_events(await ValidateOrderForm().run(CollectingDispatcher(), tracker, domain))
        assert (slots.get("verified_order") == order) is verified


async def test_a_visitor_is_asked_for_the_order_number(rt, domain):
    dispatcher = CollectingDispatcher()
    await ActionAskOrderId().run(
        dispatcher, make_tracker(events=[user("我要退货", "request_return")]), domain
    )
    assert "订单号" in texts(dispatcher) and not any(m.get("buttons") for m in dispatcher.messages)


def _customer_of(repo, order_id):
    from sqlalchemy import select

    from bot.store import models as m

    with repo._sessions() as session:
        return session.execute(
            select(m.OrderRow.customer_id).where(m.OrderRow.order_id == order_id)
        ).scalar_one()


async def test_traditional_shopper_gets_traditional_text(rt, domain):
    tracker = make_tracker(
        slots={"requested_slot": "order_id", "order_id": "100100"},
        events=[
            user("我的訂單號碼是100100", "inform_order"),
            {"event": "slot", "name": "order_id", "value": "100100"},
        ],
        active_loop="order_form",
    )
    dispatcher = CollectingDispatcher()
    await ValidateOrderForm().run(dispatcher, tracker, domain)
    said = texts(dispatcher)
    assert "訂單" in said and "订单" not in said


async def test_one_conversation_trying_many_orders_is_stopped(rt, domain):
    """One tail against many order numbers: the conversation's own count stops it."""
    limit = rt.settings.identity.max_failures_per_conversation
    orders = [f"10010000000001{n:02d}" for n in range(limit)]
    for order in orders:
        slots, _, _ = await _wrong(domain, order=order, sender="enumerator")
        assert not slots.get("order_locked")
    slots, said, _ = await _wrong(domain, order="1001000000000004", sender="enumerator", proof="0004")
    assert slots["order_locked"] is True and "verified_order" not in slots
    slots, _, _ = await _wrong(domain, order="1001000000000004", sender="someone-else", proof="0004")
    assert slots["verified_order"] == "1001000000000004"


async def test_one_address_trying_many_orders_is_stopped(rt, domain):
    limit = rt.settings.identity.max_failures_per_client
    for n in range(limit):
        tracker_events = [user("1234", "inform_order", [{"entity": "phone", "value": "1234"}]),
                          {"event": "slot", "name": "phone", "value": "1234"}]
        tracker_events[0]["metadata"] = {"client": "203.0.113.9"}
        tracker = make_tracker(slots={"requested_slot": "phone", "order_id": f"10010000000002{n:02d}", "phone": "1234"},
                               events=tracker_events, active_loop="order_form", sender=f"c{n}")
        await ValidateOrderForm().run(CollectingDispatcher(), tracker, domain)
    events = [user("0004", "inform_order", [{"entity": "phone", "value": "0004"}]),
              {"event": "slot", "name": "phone", "value": "0004"}]
    events[0]["metadata"] = {"client": "203.0.113.9"}
    tracker = make_tracker(slots={"requested_slot": "phone", "order_id": "1001000000000004", "phone": "0004"},
                           events=events, active_loop="order_form", sender="fresh")
    slots = slot_events(await ValidateOrderForm().run(CollectingDispatcher(), tracker, domain))
    assert slots["order_locked"] is True


async def test_after_a_wrong_proof_the_question_is_not_asked_twice(rt, domain):
    """"对不上…再发一次后四位（还可以再试 2 次）" already asks: the form's own question does not follow."""
    _, refused, _ = await _wrong(domain, sender="asked-once")
    assert "2 次" in refused and "后四位" in refused
    turn = [user("1234", "inform_order"), {"event": "bot", "text": refused}]
    dispatcher = CollectingDispatcher()
    await ActionAskPhone().run(dispatcher, make_tracker(slots={"order_id": "1001000000000004"}, events=turn), domain)
    assert dispatcher.messages == []
    # the next turn, or a first ask, does ask
    later = [*turn, user("多少位？", "out_of_scope")]
    dispatcher = CollectingDispatcher()
    await ActionAskPhone().run(dispatcher, make_tracker(slots={"order_id": "1001000000000004"}, events=later), domain)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_ask_phone"]


async def test_goods_of_another_order_ask_for_that_order(rt, domain):
    """The kettle's order (…0018) is proven; "我上次买的电吹风坏了" is about another order: the bot says
    so and asks for it instead of deciding on the kettle's order."""
    proven = {"order_id": "1001000000000018", "verified_order": "1001000000000018", "phone": "0018",
              "pending_request": "lost", "case_id": 7, "awaiting": "reship"}
    for text, intent, other in [("还有我上次买的电吹风坏了", "quality_issue", "电吹风"),
                                ("另一单也还没到", "shipping_delay", "另"),
                                ("電吹風也壞了", "quality_issue", "电吹风")]:
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(slots=proven, events=[user(text, intent)])
        events = slot_events(await ActionSetRequest().run(dispatcher, tracker, domain))
        said = texts(dispatcher)
        assert events["order_id"] is None and events["case_id"] is None and events["awaiting"] is None, text
        assert other in zh.to_simplified(said), said
    for text, intent in [("电热水壶也漏水", "quality_issue"), ("还是没收到", "shipping_delay"),
                         ("订单号1001000000000008 电吹风坏了", "quality_issue")]:
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(slots=proven, events=[user(text, intent)])
        events = slot_events(await ActionSetRequest().run(dispatcher, tracker, domain))
        assert "order_id" not in events and not dispatcher.messages, text


async def test_the_order_cleared_for_another_order_is_not_called_a_wrong_number(rt, domain):
    cleared = {"event": "slot", "name": "order_id", "value": None}
    tracker = make_tracker(slots={"verified_order": "1001000000000018", "order_id": None},
                           events=[user("还有我上次买的电吹风坏了", "quality_issue"), cleared], active_loop="order_form")
    dispatcher = CollectingDispatcher()
    await ValidateOrderForm().run(dispatcher, tracker, domain)
    assert "订单号是 16 位" not in texts(dispatcher) and "不是订单号" not in texts(dispatcher)


async def test_an_order_proven_earlier_in_the_conversation_needs_no_second_proof(rt, domain):
    """The kettle's order proven, then the hair dryer's; back to the kettle: no proof asked again."""
    slots = {"requested_slot": "phone", "order_id": "1001000000000018", "phone": "0018"}
    filled = {"event": "slot", "name": "phone", "value": "0018"}
    tracker = make_tracker(slots=slots, events=[user("0018", "inform_order"), filled], active_loop="order_form")
    first = slot_events(await ValidateOrderForm().run(CollectingDispatcher(), tracker, domain))
    assert first["verified_order"] == "1001000000000018" and first["proven_orders"] == ["1001000000000018"]
    proven = {"verified_order": "1001000000000008", "order_id": "1001000000000008",
              "proven_orders": ["1001000000000018", "1001000000000008"]}
    slots, said, _ = await _validate(domain, proven, "1001000000000018", entities=[
        {"entity": "order_id", "value": "1001000000000018"}])
    assert slots["verified_order"] == "1001000000000018" and slots["phone"] is None, said
    assert "后四位" not in said
    # an order never proven here still needs its proof
    slots, _, _ = await _validate(domain, proven, "1001000000000004", entities=[
        {"entity": "order_id", "value": "1001000000000004"}])
    assert "verified_order" not in slots and slots["order_id"] == "1001000000000004"


async def test_goods_of_an_order_proven_earlier_switch_back_to_it(rt, domain):
    proven = {"order_id": "1001000000000008", "verified_order": "1001000000000008", "phone": "0008",
              "proven_orders": ["1001000000000018", "1001000000000008"], "pending_request": "quality_issue",
              "awaiting": "return_tracking"}
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=proven, events=[user("那个热水壶的钱什么时候到账", "refund_status")])
    events = slot_events(await ActionSetRequest().run(dispatcher, tracker, domain))
    assert events["order_id"] == events["verified_order"] == "1001000000000018"
    assert events["interrupted"] is None  # the hair dryer's waiting case does not come back on the kettle's order
    assert "0018" in texts(dispatcher) and "电热水壶" in texts(dispatcher)
