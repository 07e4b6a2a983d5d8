"""Which order, and is it the shopper's: the form validation and its three-strikes lock."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.identify import ActionSetRequest, ValidateOrderForm
from tests.action_server.conftest import make_tracker, slot_events, texts, user


async def _validate(domain, slots, message, intent="inform_order", entities=None):
    """Run the form validation as Rasa does: slot mappings have already set the entities' slots."""
    filled = [{"event": "slot", "name": e["entity"], "value": e["value"]} for e in entities or []]
    current = {**slots, **{e["name"]: e["value"] for e in filled}}
    tracker = make_tracker(slots=current, events=[user(message, intent, entities), *filled], active_loop="order_form")
    dispatcher = CollectingDispatcher()
    events = await ValidateOrderForm().run(dispatcher, tracker, domain)
    return slot_events(events), texts(dispatcher), dispatcher


async def test_set_request_remembers_the_intent(rt, domain):
    tracker = make_tracker(events=[user("色差太大了", "color_mismatch")])
    events = await ActionSetRequest().run(CollectingDispatcher(), tracker, domain)
    assert slot_events(events)["pending_request"] == "color_mismatch"


async def test_order_number_alone_keeps_the_pending_request(rt, domain):
    tracker = make_tracker(slots={"pending_request": "return"}, events=[user("1001000000000004", "inform_order")])
    events = await ActionSetRequest().run(CollectingDispatcher(), tracker, domain)
    assert slot_events(events)["pending_request"] == "return"


async def test_known_order_asks_for_proof_and_shows_nothing(rt, domain):
    slots, said, _ = await _validate(domain, {"requested_slot": "order_id"}, "1001000000000004",
                                     entities=[{"entity": "order_id", "value": "1001000000000004"}])
    assert slots["order_id"] == "1001000000000004" and slots.get("phone", None) is None
    assert "verified_order" not in slots and "羊毛衫" not in said


async def test_unknown_order_is_refused_politely(rt, domain):
    slots, said, _ = await _validate(domain, {"requested_slot": "order_id"}, "1001000000000099")
    assert slots["order_id"] is None and ("没有查到" in said or "没找到" in said)


async def test_right_tail_verifies(rt, domain):
    slots, _, _ = await _validate(domain, {"requested_slot": "phone", "order_id": "1001000000000004"}, "0004",
                                  entities=[{"entity": "phone", "value": "0004"}])
    assert slots["verified_order"] == "1001000000000004" and slots["proof_failures"] == 0


@pytest.mark.parametrize("failures, locked", [(0, False), (1, False), (2, True)])
async def test_three_wrong_proofs_lock_the_order(rt, domain, failures, locked):
    slots, said, dispatcher = await _validate(
        domain, {"requested_slot": "phone", "order_id": "1001000000000004", "proof_failures": failures}, "1234",
        entities=[{"entity": "phone", "value": "1234"}])
    assert slots["phone"] is None and slots["proof_failures"] == failures + 1
    assert bool(slots.get("order_locked")) is locked
    assert "verified_order" not in slots and "羊毛衫" not in said
    if locked:
        assert any(b["payload"] == "/ask_human" for m in dispatcher.messages for b in m.get("buttons") or [])


async def test_full_phone_lists_that_phones_orders(rt, domain):
    slots, said, dispatcher = await _validate(domain, {"requested_slot": "order_id"}, "13800000013",
                                              entities=[{"entity": "phone", "value": "13800000013"}])
    buttons = [b for m in dispatcher.messages for b in m.get("buttons") or []]
    assert len(buttons) == 2 and all("1001000000000013" in b["payload"] or "1001000000000014" in b["payload"]
                                     for b in buttons)
    assert slots["phone"] == "13800000013"


async def test_traditional_shopper_gets_traditional_text(rt, domain):
    tracker = make_tracker(slots={"requested_slot": "order_id", "order_id": "1001000000000099"},
                           events=[user("我的訂單號碼是1001000000000099", "inform_order"),
                                   {"event": "slot", "name": "order_id", "value": "1001000000000099"}],
                           active_loop="order_form")
    dispatcher = CollectingDispatcher()
    await ValidateOrderForm().run(dispatcher, tracker, domain)
    said = texts(dispatcher)
    assert "訂單" in said and "订单" not in said
