"""Partial compensation (R9/R10/R17): the dialogue side of ``bot.bargain``.

The negotiation lives in the ``negotiation`` slot as plain JSON, so a restart of the
action server loses nothing, and every offer and counter-offer is stored with the case so
the agent console can show it. An accepted deal creates exactly one refund, keyed by the
negotiation: saying 好的 twice or a retried request cannot pay twice.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.replies import button, say
from bot import bargain
from bot.domain import Order

ALTERNATIVES = [("退货（运费我们出）", "request_return"), ("换货（运费我们出）", "request_exchange"),
                ("转人工客服", "ask_human")]


def _issue_kind(tracker: Tracker) -> str:
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == "pending_request":
            value = event.get("value")
            if value and value not in ("compensation", "status"):
                return {"color_mismatch": "color_mismatch", "quality_issue": "small_flaw",
                        "size_mismatch": "size_slightly_off", "complaint": "service_fault"}.get(value, "small_flaw")
    return "small_flaw"


def open_negotiation(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
    """Open (once per conversation and order) and make the first offer with its reason."""
    existing = tracker.get_slot("negotiation")
    if existing and existing.get("order_id") == order.order_id:
        neg = bargain.Negotiation.from_dict(existing)
        say(dispatcher, tracker, bargain.restate(neg))
        return []
    rt = runtime.get()
    kind = _issue_kind(tracker)
    neg, reply = bargain.start(order, kind, rt.settings.compensation, rng=rt.rng)
    case_id = _case_for(tracker, order, kind)
    _store(case_id, neg)
    buttons = [button("好的，接受", "affirm"), button("不接受", "deny")] if reply.amount else []
    say(dispatcher, tracker, reply.text, buttons=buttons)
    data = neg.to_dict()
    data["order_id"] = order.order_id
    return [SlotSet("negotiation", data), SlotSet("case_id", case_id),
            SlotSet("awaiting", "bargain" if reply.amount else "option")]


def _case_for(tracker: Tracker, order: Order, kind: str) -> int:
    case_id = tracker.get_slot("case_id")
    repo = runtime.get().repo
    if case_id:
        return int(case_id)
    return repo.open_case(order.order_id, "compensation", "R9", tracker.sender_id,
                          status="negotiating", note=kind).case_id


def _store(case_id: int, neg: "bargain.Negotiation", already: int = 0) -> None:
    """Record the history entries not stored yet (offers and counter-offers)."""
    repo = runtime.get().repo
    for entry in neg.history[already:]:
        repo.record_offer(case_id, entry.round, entry.actor, entry.amount, entry.text, entry.outcome)


class ActionBargain(Action):
    """A counter-offer, an acceptance or a refusal during a negotiation."""

    def name(self) -> Text:
        return "action_bargain"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        data: Optional[Dict[str, Any]] = tracker.get_slot("negotiation")
        if not data:
            say(dispatcher, tracker, "目前没有进行中的补偿协商哦。如果商品有色差或小瑕疵，告诉我订单号和情况，我来帮您看看怎么处理。")
            return []
        neg = bargain.Negotiation.from_dict(data)
        before = len(neg.history)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        rt = runtime.get()
        if intent == "affirm":
            neg, reply = bargain.accept(neg, rng=rt.rng)
        elif intent == "deny":
            neg, reply = bargain.decline(neg, rng=rt.rng)
        else:
            neg, reply = bargain.respond(neg, tracker.latest_message.get("text") or "", rng=rt.rng)
        case_id = int(tracker.get_slot("case_id"))
        _store(case_id, neg, before)
        return self._say(dispatcher, tracker, neg, reply, case_id, data.get("order_id"))

    @staticmethod
    def _say(dispatcher: CollectingDispatcher, tracker: Tracker, neg: "bargain.Negotiation",
             reply: "bargain.Reply", case_id: int, order_id: Optional[str]) -> List[EventType]:
        repo = runtime.get().repo
        buttons: List[Dict[str, str]] = []
        awaiting: Optional[str] = "bargain"
        if reply.refund_key:
            repo.create_refund(case_id, reply.amount, reply.refund_key)
            repo.update_case(case_id, status="closed", refund_amount=reply.amount, rule="R9",
                             note=f"协商补偿 {reply.amount} 元", close=True)
            awaiting = None
        elif reply.kind in ("alternatives", "no_compensation"):
            # the last offer may still stand: then 好的 must still reach the engine
            can_accept = "accept" in (reply.options or ())
            buttons = ([button("好的，接受补偿", "affirm")] if can_accept else [])
            buttons += [button(t, i) for t, i in ALTERNATIVES]
            awaiting = "bargain" if can_accept else "option"
        elif reply.amount:
            buttons = [button("好的，接受", "affirm"), button("不接受", "deny")]
        say(dispatcher, tracker, reply.text, buttons=buttons)
        data = neg.to_dict()
        data["order_id"] = order_id
        events: List[EventType] = [SlotSet("negotiation", data), SlotSet("awaiting", awaiting)]
        if reply.kind == "escalated":
            events.append(FollowupAction("action_handoff"))
        return events
