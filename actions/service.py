"""Applying the shop's rules to the shopper's request, and following up on the answers.

``action_handle_request`` runs once the order is identified (order_form): it asks
``bot.policy`` for a decision, stores the case, and words the decision with its reason.
``action_handle_answer`` takes the shopper's answer to the question the decision asked
(still want the item? a photo? the return tracking number?) and decides again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import cases, runtime
from actions.bargaining import ActionBargain, open_negotiation
from actions.identify import fresh_case
from actions.replies import button, pick, say
from bot import policy, topics
from bot.describe import describe_status, order_card, promises_in_words
from bot.domain import CaseChange, Grant, Order, Promise
from bot.policy.timing import yuan
from bot.requests import PROBLEM_NAMES, apology, fault_from_text, followup_plan
from bot.store.repository import RefundLimitExceeded
from bot.text import to_simplified

# what each decision asks next: (awaiting, buttons)
NEXT_STEP: Dict[str, tuple] = {
    "ASK_STILL_WANTS": ("still_wants", [("还要，请发货", "affirm"), ("不要了，退款", "deny")]),
    "ASK_EVIDENCE": ("evidence", [("照片已上传", "send_photo"), ("拍不了照片", "no_photo")]),
    "OFFER_WITHOUT_EVIDENCE": ("evidence", []),
    "APPROVE_RETURN_ASK_TRACKING": ("return_tracking", []),
    "APPROVE_EXCHANGE_ASK_TRACKING": ("return_tracking", []),
    "OFFER_EXCHANGE_SHOP_PAYS": ("return_tracking", []),
    "OFFER_OPTIONS_OR_COMPENSATION": (
        "option",
        [("换货", "request_exchange"), ("退货退款", "request_return"), ("不退了，给点补偿", "keep_with_compensation")],
    ),
    "RESHIP_OR_REFUND": ("reship", [("重新发货", "affirm"), ("直接退款", "deny")]),
}
ALTERNATIVES = [("退货退款", "request_return"), ("换货", "request_exchange"), ("转人工客服", "ask_human")]


def verified_order(tracker: Tracker) -> Optional[Order]:
    """The order this conversation proved it owns, fresh from the database."""
    order_id = tracker.get_slot("verified_order")
    if not order_id or order_id != tracker.get_slot("order_id"):
        return None
    return runtime.get().repo.get_order(order_id)


def decide(tracker: Tracker, order: Order, request: str, **answers: Any) -> Tuple["policy.Decision", bool]:
    """Ask the policy, with what the conversation and the case already tell: the fault, photos.

    Returns the decision and whether a photo is in hand (kept on the case as evidence).
    """
    rt = runtime.get()
    users = [e for e in tracker.events if e.get("event") == "user"]
    answers.setdefault("fault", fault_from_text([to_simplified(e.get("text") or "") for e in users[-6:]]))
    answers.setdefault("has_evidence", cases.photo_received(tracker, cases.current_case(tracker, order, request)))
    decision = policy.decide(order, policy.Request(request), rt.clock(), rt.settings, **answers)
    return decision, bool(answers["has_evidence"])


def answer_with(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, request: str,
                decision: "policy.Decision", evidence: bool = False,
                extra_buttons: Sequence[tuple] = ()) -> List[EventType]:
    """Store the decision (one transaction, once), say it with its reason, set up the next question."""
    decision = within_authority(decision)
    repo = runtime.get().repo
    try:
        recorded = repo.record_decision(cases.change_for(tracker, order, request, decision, evidence=evidence))
    except RefundLimitExceeded:
        say(dispatcher, tracker, pick(_REFUND_CHECK, tracker))
        return [SlotSet("awaiting", None), FollowupAction("action_handoff")]
    case_id = recorded.case.case_id
    if evidence:
        repo.attach_evidence(case_id, tracker.sender_id)
    action = decision.action.name
    awaiting, buttons = NEXT_STEP.get(action, (None, []))
    buttons = list(buttons) + list(extra_buttons)
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


def compensate(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
    """R9 through the rules: may a compensation be negotiated for this item now? Then negotiate."""
    rt = runtime.get()
    problem = tracker.get_slot("problem")
    item = policy.compensation_item(order)
    case = cases.current_case(tracker, order, problem) if problem else None
    evidence = cases.photo_received(tracker, case)
    users = [to_simplified(e.get("text") or "") for e in tracker.events if e.get("event") == "user"][-6:]
    decision = policy.compensation(
        order, problem, rt.clock(), rt.settings, item_sku=item.sku, has_evidence=evidence,
        fault=fault_from_text(users), paid=rt.repo.refunds_for_order(order.order_id, item.sku),
    )
    if decision.action is policy.Action.OPEN_NEGOTIATION:
        return open_negotiation(dispatcher, tracker, order, problem, decision, evidence)
    if decision.action is policy.Action.ASK_EVIDENCE:
        if case is not None and case.detail.get("without_photo_offered"):
            # R16: they already said they cannot take a photo; say why the amount needs one, not the same ask
            kept = policy.without_evidence(order, problem, rt.clock(), rt.settings)
            extra = [("退货退款", "request_return")] if kept.facts.get("can_return_without_photo") else []
            say(dispatcher, tracker, pick(_COMPENSATION_NEEDS_PHOTO, tracker),
                buttons=[button(t, i) for t, i in [*extra, ("转人工客服", "ask_human")]])
            return [SlotSet("awaiting", "evidence")]
        return answer_with(dispatcher, tracker, order, problem, decision)
    buttons = [] if decision.action is policy.Action.ASK_PROBLEM else ALTERNATIVES
    say(dispatcher, tracker, decision.reason, buttons=[button(t, i) for t, i in buttons])
    return [SlotSet("awaiting", None)]


def answer_topic(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, topic: str) -> List[EventType]:
    """An invoice, an address, a refund's progress …: what this order allows, a person for the rest."""
    rt = runtime.get()
    if topic == "refund_status":  # the only answer that reads the order's refunds and cases
        reply = topics.refund_status(order, rt.clock(), rt.repo.refunds_for_order(order.order_id),
                                     rt.repo.cases_for_order(order.order_id),
                                     rt.settings.returns.response_deadline_hours)
    else:
        reply = topics.answer(topic, order, rt.clock())
    say(dispatcher, tracker, reply.text, buttons=[button(t, i) for t, i in reply.buttons])
    events: List[EventType] = [SlotSet("awaiting", None), SlotSet("interrupted", None)]
    if reply.handoff:  # the person reads the interrupted case in the history too (R15)
        return [*events, FollowupAction("action_handoff")]
    interrupted = tracker.get_slot("interrupted")
    if interrupted:
        # back to the case that waited for the shopper; a problem remembered before stays next
        after = {"awaiting": None, "interrupted": None}
        return [*events, *start_request(dispatcher, tracker, order, interrupted, after,
                                        then=tracker.get_slot("next_request"), back=True)]
    return then_next(dispatcher, tracker, order, events, remind=True)


class ActionHandleRequest(Action):
    """The order is known and proven: apply the rules to what the shopper asked."""

    def name(self) -> Text:
        return "action_handle_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        choice = tracker.get_slot("choice_answer")
        if choice:  # "补发吧" answered the pending question (action_set_request read it): not a new request
            return [SlotSet("choice_answer", None), *await ActionHandleAnswer().answer(dispatcher, tracker, domain, choice)]
        request = tracker.get_slot("pending_request") or "status"
        if request == "complaint":
            return self._complaint(dispatcher, tracker)
        if tracker.get_slot("order_locked"):  # the form said why, once, with a human button (#11)
            return []
        order = verified_order(tracker)
        if order is None:
            say(dispatcher, tracker, "请先告诉我订单号，我帮您核对后马上处理。")
            return []
        sorry = apology(to_simplified(tracker.latest_message.get("text") or ""), tracker.get_slot("problem"))
        if sorry:  # the request came with the order already known: the apology comes first (R17)
            say(dispatcher, tracker, sorry, buttons=[button("转人工客服", "ask_human")] if "转人工" in sorry else [])
        if request == "status":
            rt = runtime.get()
            kept = [f for case in rt.repo.cases_for_order(order.order_id)
                    for f in rt.repo.follow_ups_for_case(case.case_id) if f.done_at is None]
            status = describe_status(order, rt.clock()) + promises_in_words(kept, rt.settings)
            say(dispatcher, tracker, status, custom=order_card(order))
            return then_next(dispatcher, tracker, order, [SlotSet("awaiting", None)], remind=True)
        if request == "compensation":
            return compensate(dispatcher, tracker, order)
        if request in topics.TOPICS:
            return answer_topic(dispatcher, tracker, order, request)
        decision, evidence = decide(tracker, order, request)
        events = answer_with(dispatcher, tracker, order, request, decision, evidence)
        return then_next(dispatcher, tracker, order, events, remind=True)

    @staticmethod
    def _complaint(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """R17: acknowledge and apologise in plain words, ask what happened, offer a person."""
        say(dispatcher, tracker, pick(_COMPLAINT, tracker), buttons=[button("转人工客服", "ask_human")])
        return [SlotSet("pending_request", None)]


class ActionHandleAnswer(Action):
    """The shopper answered the question the last decision asked."""

    def name(self) -> Text:
        return "action_handle_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        return await self.answer(dispatcher, tracker, domain)

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, intent: Optional[str] = None
    ) -> List[EventType]:
        """``intent`` overrides the NLU's when the words answered a two-way question (``choice_answer``)."""
        events = await self._answer(dispatcher, tracker, domain, intent)
        order = verified_order(tracker)
        return then_next(dispatcher, tracker, order, events) if order is not None else events

    async def _answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, intent: Optional[str] = None
    ) -> List[EventType]:
        awaiting = tracker.get_slot("awaiting")
        intent = intent or (tracker.latest_message.get("intent") or {}).get("name")
        if awaiting == "bargain" and intent in ("affirm", "deny"):
            return await ActionBargain().run(dispatcher, tracker, domain)
        order = verified_order(tracker)
        request = tracker.get_slot("pending_request")
        if order is None or not awaiting or not request:
            return self._nothing_pending(dispatcher, tracker, intent)
        if awaiting == "still_wants" and intent in ("affirm", "deny"):
            decision, evidence = decide(tracker, order, request, still_wants_item=intent == "affirm")
        elif awaiting == "evidence" and intent in ("send_photo", "no_photo", "affirm", "deny"):
            return self._evidence(dispatcher, tracker, order, request, intent)
        elif awaiting == "return_tracking":
            return self._return_tracking(dispatcher, tracker, order)
        elif awaiting == "reship" and intent in ("affirm", "deny"):
            return self._reship_or_refund(dispatcher, tracker, order, reship=intent == "affirm")
        else:
            return self._nothing_pending(dispatcher, tracker, intent)
        return answer_with(dispatcher, tracker, order, request, decision, evidence)

    @staticmethod
    def _evidence(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, request: str,
                  intent: str) -> List[EventType]:
        """R10/R16: a photo moves the case on; "好的" is not a photo; "拍不了" is answered once, kindly."""
        kind = tracker.get_slot("problem") if request == "compensation" else request
        case = cases.current_case(tracker, order, kind) if kind else None
        if intent in ("send_photo", "affirm") and cases.photo_received(tracker, case):
            if request == "compensation":
                return compensate(dispatcher, tracker, order)
            decision, evidence = decide(tracker, order, request)
            return answer_with(dispatcher, tracker, order, request, decision, evidence)
        if intent == "send_photo":  # says it was sent, but the widget received nothing
            say(dispatcher, tracker, pick(_PHOTO_NOT_SEEN, tracker))
            return []
        if intent == "affirm":
            say(dispatcher, tracker, pick(_PHOTO_LATER, tracker))
            return []
        if case is not None and case.status == "waiting_evidence" and case.detail.get("without_photo_offered"):
            say(dispatcher, tracker, pick(_PHOTO_NO_RUSH, tracker))  # already told what needs no photo
            return []
        rt = runtime.get()
        decision = policy.without_evidence(order, kind or request, rt.clock(), rt.settings)
        extra = ([("退货退款", "request_return")] if decision.facts.get("can_return_without_photo") else [])
        extra.append(("转人工客服", "ask_human"))
        decision = replace(decision, facts={**decision.facts, "without_photo_offered": True})
        return answer_with(dispatcher, tracker, order, kind or request, decision, extra_buttons=extra)

    @staticmethod
    def _nothing_pending(dispatcher: CollectingDispatcher, tracker: Tracker, intent: Optional[str]) -> List[EventType]:
        if tracker.active_loop_name:
            # "好的" / "不是" while the order form asks: its question comes right after, so
            # "还有什么可以帮您的吗？" would contradict it; a photo is kept for the case (R10)
            if intent == "send_photo":
                say(dispatcher, tracker, pick(_PHOTO_BEFORE_ORDER, tracker))
            return []
        if intent == "send_photo":
            say(dispatcher, tracker, pick(_PHOTO_NO_CONTEXT, tracker))
        elif intent == "deny":
            say(dispatcher, tracker, pick(_OK_DENY, tracker))
        else:
            say(dispatcher, tracker, pick(_OK_AFFIRM, tracker))
        return []

    @staticmethod
    def _return_tracking(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        """R5: the return tracking number lets the warehouse refund on arrival (a promise, R14)."""
        tracking = tracker.get_slot("tracking_no")
        if not tracking:
            say(dispatcher, tracker, "寄出后请把退货快递单号发给我（例如 SF 开头的一串数字），仓库收到后会尽快为您退款。")
            return []
        rt = runtime.get()
        rt.repo.set_return_tracking(order.order_id, tracking)
        text = pick(_TRACKING_SAVED, tracker).format(tracking=tracking)
        case_id = tracker.get_slot("case_id")
        case = rt.repo.get_case(int(case_id)) if case_id else None
        if case is not None and case.order_id == order.order_id:
            due = rt.clock() + timedelta(hours=rt.settings.returns.response_deadline_hours)
            rt.repo.record_decision(CaseChange(
                order.order_id, case.kind, case.rule, "waiting_return", tracker.sender_id,
                note=f"退货单号 {tracking}", detail={"return_tracking_no": tracking},
                promise=Promise("refund_on_return", text, due), case_id=case.case_id,
                decision_key=cases.decision_key(tracker),
            ))
        say(dispatcher, tracker, text)
        return [SlotSet("awaiting", None)]

    @staticmethod
    def _reship_or_refund(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order,
                          reship: bool) -> List[EventType]:
        """R11: lost parcel - re-ship at once or refund; the courier claim is ours to chase."""
        rt = runtime.get()
        case_id = tracker.get_slot("case_id")
        case = rt.repo.get_case(int(case_id)) if case_id else None
        if case is None or case.order_id != order.order_id:
            return [FollowupAction("action_handoff")]
        key = cases.decision_key(tracker)
        if reship:
            text = pick(_RESHIP, tracker)
            due = rt.clock() + timedelta(hours=rt.settings.logistics.news_promise_hours)
            change = CaseChange(order.order_id, case.kind, "R11", "closed", tracker.sender_id, note="丢件：重新发货",
                                promise=Promise("reship_tracking", text, due), case_id=case.case_id,
                                decision_key=key)
        else:
            offered = case.detail.get("refund_amount")
            if offered is None:  # nothing was offered: a person decides the amount
                return [FollowupAction("action_handoff")]
            amount = Decimal(str(offered))
            text = pick(_LOST_REFUND, tracker).format(amount=yuan(amount))
            grant = Grant(amount, cases.refund_key(case.kind, order.order_id))
            change = CaseChange(order.order_id, case.kind, "R11", "closed", tracker.sender_id, note="丢件：退款",
                                grant=grant, case_id=case.case_id, decision_key=key)
        try:
            rt.repo.record_decision(change)
        except RefundLimitExceeded:
            say(dispatcher, tracker, pick(_REFUND_CHECK, tracker))
            return [SlotSet("awaiting", None), FollowupAction("action_handoff")]
        say(dispatcher, tracker, text)
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
_COMPENSATION_NEEDS_PHOTO = (
    "补偿的金额要按实际差异的程度来定，所以还是需要一张照片才能给您方案。您之后方便拍了直接发我，我马上给您算；"
    "现在就想处理的话，也可以选下面的方式。",
    "理解您现在拍不了照片。补偿多少要对照照片看差异大小，没有照片我没法直接定金额，照片到了我第一时间给您方案；"
    "或者您也可以选下面的处理方式。",
)
_PHOTO_BEFORE_ORDER = ("图片收到了，核对完订单我马上接着看。", "照片已经收到～先确认一下是哪笔订单。")
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
_PHOTO_NOT_SEEN = (
    "我这边还没有收到图片哦。在聊天窗口点一下输入框旁边的📷就能上传，上传成功后会显示在对话里。",
    "图片好像还没传过来，麻烦点输入框旁的📷再上传一次，我收到后马上给您处理。",
)
_PHOTO_LATER = (
    "好的，您拍好以后直接上传就行，我收到照片就接着给您处理。",
    "嗯嗯，不着急，照片拍好发过来我马上看。",
)
_PHOTO_NO_RUSH = (
    "好的，照片的事不着急，到时间我会提醒您。需要先退货或者转人工的话，随时告诉我。",
    "明白，您方便的时候再发就行，我会按时提醒您。有别的需要也可以直接说。",
)
_REFUND_CHECK = (
    "这笔退款需要同事再核对一下金额，我已经把情况转给人工客服，您不用重复说明。",
    "这笔订单的退款金额需要人工确认，我这就转给售后同事处理，之前聊的内容会一并带过去。",
)


def then_next(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, events: List[EventType],
              remind: bool = False) -> List[EventType]:
    """The second problem of the same message (``next_request``), once this case needs nothing more.

    One case per request (issue #10): the second gets its own case, fresh state and its own
    decision on the same proven order. While the first still waits for the shopper (a photo,
    a choice, a tracking number) the second waits too; ``remind`` says once that it is noted.
    """
    after = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    # what this turn already set wins: a second call on the same events starts nothing twice
    second = after.get("next_request", tracker.get_slot("next_request"))
    if not second or second == after.get("pending_request", tracker.get_slot("pending_request")):
        return events
    if any(e.get("event") == "followup" for e in events) or after.get("handed_off"):
        return events  # a person takes over: they read both problems in the history (R15)
    if after.get("awaiting", tracker.get_slot("awaiting")):
        if remind:
            say(dispatcher, tracker, pick(_NEXT_NOTED, tracker).format(what=PROBLEM_NAMES.get(second, "另一个问题")))
        return events
    return [*events, *start_request(dispatcher, tracker, order, second, after)]


def start_request(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, request: str,
                  after: Optional[Dict[str, Any]] = None, then: Optional[str] = None,
                  back: bool = False) -> List[EventType]:
    """Start ``request`` on the proven order as its own case ("接下来看您说的颜色的问题：").

    ``after`` holds the slots this turn already set; ``then`` is the problem to remember for
    after this one (``next_request``); ``back`` says it is the case a question interrupted."""
    say(dispatcher, tracker, pick(_BACK_TO if back else _NEXT_NOW).format(what=PROBLEM_NAMES.get(request, "另一个问题")))
    fresh = {"pending_request": request, "problem": request, "case_id": None, "negotiation": None,
             "awaiting": None, "next_request": then}
    view = tracker.copy()
    view.slots.update({**(after or {}), **fresh})
    started = [SlotSet(name, value) for name, value in fresh.items()]
    decision, evidence = decide(view, order, request)
    return [*started, *answer_with(dispatcher, view, order, request, decision, evidence)]


class ActionVagueFollowup(Action):
    """"那颜色的问题呢", "之前那个问题怎么办", "这单呢": a message that leans on the earlier chat (issue #13).

    What the conversation already knows is used, never asked for again. The problem the message
    names, or else the one remembered from an earlier message (``next_request``), is started on
    the proven order as its own case (one case per request, issue #10); a case that still waits
    for the shopper is remembered in its place, so nothing is dropped. Without a proven order the
    problem is kept and the order number asked for (the order rules take it from there). With
    nothing to go on, the shopper is asked which order and what problem.
    """

    def name(self) -> Text:
        return "action_vague_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        target, then = followup_plan(to_simplified(tracker.latest_message.get("text") or ""),
                                     tracker.get_slot("pending_request"), tracker.get_slot("awaiting"),
                                     tracker.get_slot("next_request"))
        order = verified_order(tracker)
        if target is None:
            if order is None:
                dispatcher.utter_message(response="utter_ask_which_problem")
            else:
                say(dispatcher, tracker, pick(_WHICH_PROBLEM, tracker).format(tail=order.order_id[-4:]),
                    buttons=[button(t, i) for t, i in _PROBLEM_BUTTONS])
            return []
        if order is None:
            say(dispatcher, tracker, pick(_ORDER_FOR, tracker).format(what=PROBLEM_NAMES.get(target, "这个问题")))
            return [SlotSet("pending_request", target), SlotSet("problem", target), *fresh_case(),
                    SlotSet("next_request", then)]
        return start_request(dispatcher, tracker, order, target, then=then)


_WHICH_PROBLEM = (
    "尾号 {tail} 的这笔订单，具体遇到了什么问题呢？说一句就行，比如还没收到、质量问题、颜色或尺码不对。",
    "好的，还是尾号 {tail} 这笔订单对吧？麻烦说一下是什么情况，我接着帮您处理。",
)
_PROBLEM_BUTTONS = (("还没收到货", "shipping_delay"), ("质量问题", "quality_issue"), ("颜色不对", "color_mismatch"),
                    ("尺码不对", "size_mismatch"), ("想退货", "request_return"))
_ORDER_FOR = (
    "好的，来看{what}。麻烦把订单号发给我，核对一下就接着处理。",
    "明白，{what}我来跟进。请先告诉我是哪笔订单（订单号），我核对后马上处理。",
)


_NEXT_NOTED = (
    "您说的{what}我也记下了，这个处理完我马上接着帮您看。",
    "另外，{what}我记着呢，这一步办好就接着处理它。",
)
_BACK_TO = (
    "再回到您说的{what}：",
    "{what}还在处理中，接着说：",
)
_NEXT_NOW = (
    "接下来看您说的{what}：",
    "这个先这样。再来处理您提到的{what}：",
)


def within_authority(decision: "policy.Decision") -> "policy.Decision":
    """A refund above ``service.refund_handoff_above`` (bot/shop.yml) is an agent's call (issue #12)."""
    from actions.handoff import service_settings
    from bot.handoff import refund_needs_person

    if decision.action.name in ("HANDOFF", "RESHIP_OR_REFUND", "ASK_STILL_WANTS") or not refund_needs_person(
        decision.refund_amount, service_settings()
    ):
        return decision
    reason = f"这笔退款金额为 {decision.refund_amount} 元，需要人工客服审核确认，我这就为您转接，刚才的情况会一并转过去。"
    return replace(decision, action=policy.Action.HANDOFF, reason=reason)
