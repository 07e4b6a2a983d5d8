"""Partial compensation (R9/R10/R17): the dialogue side of ``bot.bargain``.

A negotiation opens only when ``bot.policy.compensation`` allows it (item received, window
open, a kind compensation suits, the photo the shop asks for, nothing paid on the item before).
It lives in the ``negotiation`` slot as plain JSON, so a restart of the action server loses
nothing, and every offer and counter-offer is stored with the case (once: ``seq``) so the agent
console can show it. An accepted deal creates exactly one refund, keyed by order and item:
saying 好的 twice, a retried request or a second conversation cannot pay twice.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import cases, runtime
from actions.replies import button, say
from bot import bargain, policy
from bot.domain import CaseChange, Grant, Order
from bot.store.repository import RefundLimitExceeded

ALTERNATIVES = [("退货（运费我们出）", "request_return"), ("换货（运费我们出）", "request_exchange"),
                ("转人工客服", "ask_human")]


def open_negotiation(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, problem: str,
                     decision: "policy.Decision", evidence: bool = False) -> List[EventType]:
    """The rules allow it (``bot.policy.compensation``): open once per item and make the first offer.

    The negotiation's id is the order and item, so its refund key is too: one accepted
    compensation per order item, whatever conversation or process asks.
    """
    facts = decision.facts
    existing = tracker.get_slot("negotiation")
    if existing and existing.get("order_id") == order.order_id and existing.get("item_sku") == facts["item_sku"]:
        neg = bargain.Negotiation.from_dict(existing)
        say(dispatcher, tracker, bargain.restate(neg))
        return []
    rt = runtime.get()
    neg, reply = bargain.start(order, facts["compensation_kind"], rt.settings.compensation, sku=facts["item_sku"],
                               rng=rt.rng, neg_id=f"{order.order_id}:{facts['item_sku']}")
    recorded = rt.repo.record_decision(cases.change_for(
        tracker, order, problem, decision, evidence=evidence, item_sku=None,
        note=f"协商补偿：{facts['item_name']}", promise=None,
    ))
    case_id = recorded.case.case_id
    if evidence:
        rt.repo.attach_evidence(case_id, tracker.sender_id)
    _store(case_id, neg)
    buttons = [button("好的，接受", "affirm"), button("不接受", "deny")] if reply.amount else []
    say(dispatcher, tracker, reply.text, buttons=buttons)
    data = {**neg.to_dict(), "order_id": order.order_id, "item_sku": facts["item_sku"]}
    return [SlotSet("negotiation", data), SlotSet("case_id", case_id),
            SlotSet("awaiting", "bargain" if reply.amount else "option")]


def _store(case_id: int, neg: "bargain.Negotiation", already: int = 0) -> None:
    """Record the history entries not stored yet; a retried turn stores nothing twice (seq)."""
    repo = runtime.get().repo
    for seq, entry in enumerate(neg.history[already:], start=already):
        repo.record_offer(case_id, entry.round, entry.actor, entry.amount, entry.text, entry.outcome, seq=seq)


class ActionBargain(Action):
    """A counter-offer, an acceptance or a refusal during a negotiation."""

    def name(self) -> Text:
        return "action_bargain"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        data: Optional[Dict[str, Any]] = tracker.get_slot("negotiation")
        if not data:
            from actions.service import compensate, verified_order

            order = verified_order(tracker)
            if order is not None:  # "补我50吧" before any offer: R9 decides for the proven order and problem
                return [SlotSet("pending_request", "compensation"), *compensate(dispatcher, tracker, order)]
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
        events = self._say(dispatcher, tracker, neg, reply, case_id, data.get("order_id"))
        if reply.refund_key:  # a deal closes the case: the second problem of the message comes next
            from actions.service import then_next, verified_order

            order = verified_order(tracker)
            if order is not None:
                return then_next(dispatcher, tracker, order, events)
        return events

    @staticmethod
    def _say(dispatcher: CollectingDispatcher, tracker: Tracker, neg: "bargain.Negotiation",
             reply: "bargain.Reply", case_id: int, order_id: Optional[str]) -> List[EventType]:
        repo = runtime.get().repo
        buttons: List[Dict[str, str]] = []
        awaiting: Optional[str] = "bargain"
        if reply.refund_key:
            case = repo.get_case(case_id)
            try:
                repo.record_decision(CaseChange(
                    case.order_id, case.kind, "R9", "closed", tracker.sender_id, note=f"协商补偿 {reply.amount} 元",
                    detail={"agreed": str(reply.amount)}, grant=Grant(reply.amount, reply.refund_key),
                    case_id=case_id, decision_key=cases.decision_key(tracker),
                ))
            except RefundLimitExceeded:
                say(dispatcher, tracker, "这笔补偿需要同事再核对一下金额，我已经转给人工客服，您不用重复说明。")
                return [SlotSet("awaiting", None), FollowupAction("action_handoff")]
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
        data = {**neg.to_dict(), "order_id": order_id, "item_sku": (tracker.get_slot("negotiation") or {}).get("item_sku")}
        events: List[EventType] = [SlotSet("negotiation", data), SlotSet("awaiting", awaiting)]
        if reply.kind == "escalated":
            events.append(FollowupAction("action_handoff"))
        return events
