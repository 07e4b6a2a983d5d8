"""Applying the shop's rules to the shopper's request, and following up on the answers.

``action_handle_request`` runs once the order is identified (order_form): it asks
``bot.policy`` for a decision, stores the case, and words the decision with its reason.
``action_handle_answer`` takes the shopper's answer to the question the decision asked
(still want the item? a photo? the return tracking number?) and decides again.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.bargaining import ActionBargain, open_negotiation
from actions.replies import button, pick, say
from bot import policy
from bot.describe import describe_status, order_card
from bot.domain import Order
from bot.requests import fault_from_text
from bot.text import to_simplified

# what each decision asks next: (awaiting, buttons)
NEXT_STEP: Dict[str, tuple] = {
    "ASK_STILL_WANTS": ("still_wants", [("还要，请发货", "affirm"), ("不要了，退款", "deny")]),
    "ASK_EVIDENCE": ("evidence", [("照片已上传", "send_photo"), ("拍不了照片", "no_photo")]),
    "APPROVE_RETURN_ASK_TRACKING": ("return_tracking", []),
    "APPROVE_EXCHANGE_ASK_TRACKING": ("return_tracking", []),
    "OFFER_EXCHANGE_SHOP_PAYS": ("return_tracking", []),
    "OFFER_OPTIONS_OR_COMPENSATION": (
        "option",
        [("换货", "request_exchange"), ("退货退款", "request_return"), ("不退了，给点补偿", "keep_with_compensation")],
    ),
    "RESHIP_OR_REFUND": ("reship", [("重新发货", "affirm"), ("直接退款", "deny")]),
}
CLOSING = {"REFUND_NOW", "APPROVE_REFUND"}


def verified_order(tracker: Tracker) -> Optional[Order]:
    """The order this conversation proved it owns, fresh from the database."""
    order_id = tracker.get_slot("verified_order")
    if not order_id or order_id != tracker.get_slot("order_id"):
        return None
    return runtime.get().repo.get_order(order_id)


def _user_events(tracker: Tracker) -> List[Dict[str, Any]]:
    return [e for e in tracker.events if e.get("event") == "user"]


def decide(tracker: Tracker, order: Order, request: str, **answers: Any) -> "policy.Decision":
    """Ask the policy, with what the conversation already tells: the fault described, photos sent."""
    rt = runtime.get()
    users = _user_events(tracker)
    answers.setdefault("fault", fault_from_text([to_simplified(e.get("text") or "") for e in users[-6:]]))
    answers.setdefault("has_evidence", any(
        (e.get("parse_data", {}).get("intent") or {}).get("name") == "send_photo" for e in users))
    return policy.decide(order, policy.Request(request), rt.clock(), rt.settings, **answers)


def record(tracker: Tracker, order: Order, request: str, decision: "policy.Decision") -> int:
    """Open (or update) the case this decision belongs to; returns its id (R14, R15)."""
    repo = runtime.get().repo
    case_id = tracker.get_slot("case_id")
    action = decision.action.name
    status = "closed" if action in CLOSING else ("handed_off" if action == "HANDOFF" else "open")
    if action == "ASK_EVIDENCE":
        status = "waiting_evidence"
    if decision.return_address and not decision.is_refusal:
        status = "waiting_return"
    # a decision that still waits for the shopper's choice has refunded nothing yet; its
    # figures (the amount on offer among them) are kept in the case's detail
    amount = None if action in ("RESHIP_OR_REFUND", "ASK_STILL_WANTS") else decision.refund_amount
    detail = decision.facts_for_storage()
    if case_id:
        case = repo.update_case(int(case_id), status=status, rule=decision.rule, refund_amount=amount,
                                close=status == "closed", note=decision.reason, detail=detail)
    else:
        case = repo.open_case(order.order_id, request, decision.rule, tracker.sender_id,
                              status=status, note=decision.reason, refund_amount=amount, detail=detail)
        if status == "closed":
            case = repo.update_case(case.case_id, status="closed", close=True)
    if decision.follow_up_hours:
        due = runtime.get().clock() + timedelta(hours=decision.follow_up_hours)
        repo.add_follow_up(case.case_id, tracker.sender_id, decision.reason, due)
    return case.case_id


def answer_with(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, request: str,
                decision: "policy.Decision") -> List[EventType]:
    """Say the decision with its reason, store it, and set up the next question."""
    case_id = record(tracker, order, request, decision)
    action = decision.action.name
    awaiting, buttons = NEXT_STEP.get(action, (None, []))
    if awaiting is None and decision.return_address and not decision.is_refusal:
        awaiting = "return_tracking"  # a return address given: the tracking number comes next (R5)
    text = decision.reason
    if awaiting == "return_tracking" and decision.return_address and decision.return_address not in text:
        text += f"\n退货地址：{decision.return_address}"
    say(dispatcher, tracker, text, buttons=[button(t, i) for t, i in buttons])

    events: List[EventType] = [SlotSet("case_id", case_id), SlotSet("awaiting", awaiting)]
    if action == "HANDOFF":
        events.append(FollowupAction("action_handoff"))
    return events


class ActionHandleRequest(Action):
    """The order is known and proven: apply the rules to what the shopper asked."""

    def name(self) -> Text:
        return "action_handle_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        request = tracker.get_slot("pending_request") or "status"
        if request == "complaint":
            return self._complaint(dispatcher, tracker)
        if tracker.get_slot("order_locked"):  # the form said why, once, with a human button (#11)
            return []
        order = verified_order(tracker)
        if order is None:
            say(dispatcher, tracker, "请先告诉我订单号，我帮您核对后马上处理。")
            return []
        if request == "status":
            now = runtime.get().clock()
            say(dispatcher, tracker, describe_status(order, now), custom=order_card(order))
            return [SlotSet("awaiting", None)]
        if request == "compensation":
            return open_negotiation(dispatcher, tracker, order)
        return answer_with(dispatcher, tracker, order, request, decide(tracker, order, request))

    @staticmethod
    def _complaint(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """R17: acknowledge and apologise in plain words, ask what happened, offer a person."""
        say(dispatcher, tracker, pick(_COMPLAINT), buttons=[button("转人工客服", "ask_human")])
        return [SlotSet("pending_request", None)]


class ActionHandleAnswer(Action):
    """The shopper answered the question the last decision asked."""

    def name(self) -> Text:
        return "action_handle_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        awaiting = tracker.get_slot("awaiting")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if awaiting == "bargain" and intent in ("affirm", "deny"):
            return await ActionBargain().run(dispatcher, tracker, domain)
        order = verified_order(tracker)
        request = tracker.get_slot("pending_request")
        if order is None or not awaiting or not request:
            return self._nothing_pending(dispatcher, tracker, intent)
        if awaiting == "still_wants" and intent in ("affirm", "deny"):
            decision = decide(tracker, order, request, still_wants_item=intent == "affirm")
        elif awaiting == "evidence" and intent in ("send_photo", "no_photo", "affirm"):
            decision = decide(tracker, order, request, has_evidence=intent != "no_photo")
        elif awaiting == "return_tracking":
            return self._return_tracking(dispatcher, tracker, order)
        elif awaiting == "reship" and intent in ("affirm", "deny"):
            return self._reship_or_refund(dispatcher, tracker, order, reship=intent == "affirm")
        else:
            return self._nothing_pending(dispatcher, tracker, intent)
        return answer_with(dispatcher, tracker, order, request, decision)

    @staticmethod
    def _nothing_pending(dispatcher: CollectingDispatcher, tracker: Tracker, intent: Optional[str]) -> List[EventType]:
        if intent == "send_photo":
            say(dispatcher, tracker, pick(_PHOTO_NO_CONTEXT))
        elif intent == "deny":
            say(dispatcher, tracker, pick(_OK_DENY))
        else:
            say(dispatcher, tracker, pick(_OK_AFFIRM))
        return []

    @staticmethod
    def _return_tracking(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        """R5: the return tracking number lets the warehouse refund on arrival."""
        tracking = tracker.get_slot("tracking_no")
        if not tracking:
            say(dispatcher, tracker, "寄出后请把退货快递单号发给我（例如 SF 开头的一串数字），仓库收到后会尽快为您退款。")
            return []
        repo = runtime.get().repo
        repo.set_return_tracking(order.order_id, tracking)
        case_id = tracker.get_slot("case_id")
        if case_id:
            repo.update_case(int(case_id), status="waiting_return", note=f"退货单号 {tracking}")
        say(dispatcher, tracker, pick(_TRACKING_SAVED).format(tracking=tracking))
        return [SlotSet("awaiting", None)]

    @staticmethod
    def _reship_or_refund(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order,
                          reship: bool) -> List[EventType]:
        """R11: lost parcel - re-ship at once or refund; the courier claim is ours to chase."""
        repo = runtime.get().repo
        case_id = int(tracker.get_slot("case_id"))
        if reship:
            repo.update_case(case_id, status="closed", refund_amount=Decimal(0), note="丢件：重新发货", close=True)
            say(dispatcher, tracker, pick(_RESHIP))
        else:
            offered = (repo.get_case(case_id).detail or {}).get("refund_amount")
            if offered is None:  # nothing was offered: a person decides the amount
                return [FollowupAction("action_handoff")]
            amount = Decimal(str(offered))
            repo.update_case(case_id, status="closed", refund_amount=amount, note="丢件：退款", close=True)
            say(dispatcher, tracker, pick(_LOST_REFUND).format(amount=f"{amount:g}"))
        return [SlotSet("awaiting", None)]


_COMPLAINT = (
    "真的很抱歉给您带来了不好的体验，这是我们做得不够好。能跟我说说具体发生了什么吗？我会认真记录并尽力给您一个满意的处理。",
    "非常抱歉让您不开心了。您的意见我们很重视，方便说一下是哪里让您不满意吗？如果您更希望直接和同事沟通，我也可以马上转人工。",
)
_PHOTO_NO_CONTEXT = (
    "收到您的图片了。请问是哪笔订单、遇到了什么问题呢？告诉我订单号就能帮您处理。",
    "图片收到啦～麻烦再说一下订单号和具体问题，我来帮您看看。",
)
_OK_AFFIRM = ("好的～还有什么可以帮您的吗？", "明白了。还有其他需要帮忙的吗？")
_OK_DENY = ("好的，没问题。还有其他可以帮您的吗？", "了解～有需要随时叫我。")
_TRACKING_SAVED = (
    "已记下您的退货单号 {tracking}。仓库签收后会在 48 小时内为您办理退款，进度有变化我会主动通知您。",
    "收到，退货单号 {tracking} 已登记。包裹到仓验收后就给您退款，退款结果会同步给您。",
)
_RESHIP = (
    "已为您安排重新发货，会优先安排更快的快递，新单号出来后第一时间发给您。找快递理赔是我们的事，不用您等。",
    "好的，马上给您补发一件，发出后同步新的运单号。丢件的理赔由我们去和快递公司处理，不耽误您。",
)
_LOST_REFUND = (
    "好的，已为您办理退款 {amount} 元，原路退回。快递丢件的理赔由我们去跟进，不需要您等待。",
    "明白，{amount} 元退款已提交，会原路返回到您的支付账户。后续向快递追责的事交给我们。",
)
