"""From a decision to what is written: one case per request, money once, promises recorded.

The rules (``bot.policy``) decide; this module turns a decision into one ``CaseChange`` for
``OrderRepository.record_decision``, which writes the case, any refund and any promise in a
single transaction, and recognises a repeated call (same shopper message) so a Rasa retry or
a restarted action server changes nothing the second time.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from actions import runtime
from bot import policy
from bot.domain import Case, CaseChange, Grant, Order, Promise
from bot.policy import Action
from bot.requests import choice_answer
from bot.text import to_simplified

CLOSING = {Action.REFUND_NOW, Action.APPROVE_REFUND}
# decisions that pay at once; other granted amounts wait for the return to reach the warehouse
PAID_NOW = {Action.REFUND_NOW, Action.APPROVE_REFUND}
# decisions whose amount is only on offer until the shopper chooses, or a person decides
NOT_YET_GRANTED = {Action.RESHIP_OR_REFUND, Action.ASK_STILL_WANTS, Action.HANDOFF}
# which kind of promise each promising decision makes (R14); the runner words it from the kind
PROMISE_KINDS = {
    Action.ASK_EVIDENCE: "photo_reminder",
    Action.OFFER_WITHOUT_EVIDENCE: "photo_reminder",
    Action.PROMISE_NEWS: "courier_news",
    Action.RESHIP_MISSING: "reship_tracking",
    Action.HANDOFF: "promise",
}
WIDGET = "widget"  # the channel that carries photos itself: there only an upload counts


def decision_key(tracker: Tracker) -> Optional[str]:
    """The shopper message a decision answers: the same for every retry of the same action call."""
    message_id = (tracker.latest_message or {}).get("message_id")
    return f"{tracker.sender_id}:{message_id}" if message_id else None


def refund_key(kind: str, order_id: str, item_sku: Optional[str] = None) -> str:
    """One refund per order, item and kind of request, whichever process or conversation asks."""
    return f"{kind}:{order_id}:{item_sku or 'order'}"


def request_events(tracker: Tracker) -> List[Dict[str, Any]]:
    """The shopper's messages since the current request was made (action_set_request)."""
    events = list(tracker.events)
    start = 0
    for index, event in enumerate(events):
        if event.get("event") == "action" and event.get("name") == "action_set_request":
            start = index
    return [e for e in events[start:] if e.get("event") == "user"]


def _intent(event: Dict[str, Any]) -> Optional[str]:
    return (event.get("parse_data", {}).get("intent") or {}).get("name")


def current_case(tracker: Tracker, order: Order, kind: str) -> Optional[Case]:
    """The open case this request continues: the conversation's own if it is about this order
    and kind, else the newest open one of the same order and kind (a shopper back tomorrow, R15)."""
    repo = runtime.get().repo
    case_id = tracker.get_slot("case_id")
    if case_id:
        case = repo.get_case(int(case_id))
        if case and case.order_id == order.order_id and case.kind == kind and case.closed_at is None:
            return case
    return repo.open_case_for(order.order_id, kind)


def photo_received(tracker: Tracker, case: Optional[Case]) -> bool:
    """Evidence is evidence (R10, R16): "好的" never counts as a photo.

    A photo counts when the case already has one, when one was uploaded in this conversation
    (the widget) for no other case, or, on channels that cannot carry images, when the shopper
    said they sent one (send_photo) since making this request.
    """
    if case is not None and case.detail.get("evidence"):
        return True
    repo = runtime.get().repo
    case_id = case.case_id if case else None
    if any(e.case_id in (None, case_id) for e in repo.evidence_for_conversation(tracker.sender_id)):
        return True
    if tracker.get_latest_input_channel() == WIDGET:
        return False
    return any(_intent(e) == "send_photo" for e in request_events(tracker))


def status_of(decision: "policy.Decision") -> str:
    """The case's status after this decision."""
    if decision.action in CLOSING:
        return "closed"
    if decision.action is Action.HANDOFF:
        return "handed_off"
    if decision.action in (Action.ASK_EVIDENCE, Action.OFFER_WITHOUT_EVIDENCE):
        return "waiting_evidence"
    if decision.action is Action.OPEN_NEGOTIATION:
        return "negotiating"
    if decision.return_address and not decision.is_refusal:
        return "waiting_return"
    return "open"


def grant_of(decision: "policy.Decision", kind: str, order: Order) -> Optional[Grant]:
    """The money this decision grants, if any (R1, R2, R5, R6, R12, R13): one refund row each."""
    amount = decision.refund_amount
    if amount is None or amount <= 0 or decision.action in NOT_YET_GRANTED:
        return None
    state = "approved" if decision.action in PAID_NOW else "awaiting_return"
    return Grant(Decimal(amount), refund_key(kind, order.order_id), state)


def promise_of(decision: "policy.Decision") -> Optional[Promise]:
    """The promise this decision's words make (R14), due when it said."""
    if not decision.follow_up_hours:
        return None
    due = runtime.get().clock() + timedelta(hours=decision.follow_up_hours)
    return Promise(PROMISE_KINDS.get(decision.action, "promise"), decision.reason, due)


def change_for(
    tracker: Tracker,
    order: Order,
    kind: str,
    decision: "policy.Decision",
    *,
    evidence: bool = False,
    **overrides: Any,
) -> CaseChange:
    """The CaseChange that records ``decision`` on the request's case."""
    detail = decision.facts_for_storage()
    if evidence:
        detail["evidence"] = True
    values: Dict[str, Any] = dict(
        order_id=order.order_id,
        kind=kind,
        rule=decision.rule,
        status=status_of(decision),
        conversation_id=tracker.sender_id,
        note=decision.reason,
        detail=detail,
        grant=grant_of(decision, kind, order),
        promise=promise_of(decision),
        case_id=int(tracker.get_slot("case_id")) if tracker.get_slot("case_id") else None,
        decision_key=decision_key(tracker),
    )
    values.update(overrides)
    return CaseChange(**values)


def choice_in(tracker: Tracker) -> Optional[str]:
    """"affirm"/"deny" when the latest message answers, in words, the two-way question the proven
    order's case is waiting on ("补发吧" to re-ship or refund); see ``bot.requests.choice_answer``."""
    if not tracker.get_slot("verified_order"):
        return None
    return choice_answer(tracker.get_slot("awaiting"), to_simplified(tracker.latest_message.get("text") or ""))
