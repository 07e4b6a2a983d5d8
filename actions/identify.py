"""Which order, and is it the shopper's? (a shopper sees only their own orders)

The shopper gives an order number, then proves it is theirs with the last four digits
of the phone it was placed with (or the full phone). Three wrong proofs and the order
is no longer looked up in this conversation; a human is offered instead. A shopper who
gives only a full phone number is shown that phone's recent orders to choose from.
Nothing about an order is shown before the proof.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.replies import button, pick, say
from bot import text as zh
from bot.requests import problem_from_text, request_for_intent

MAX_PROOF_FAILURES = 3


class ActionSetRequest(Action):
    """Remember what the shopper asked for while we find the order."""

    def name(self) -> Text:
        return "action_set_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        request = request_for_intent(intent)
        text = zh.to_simplified(tracker.latest_message.get("text") or "")
        if request is None:  # an order number alone: keep what was asked, else show status
            named = _digits(text, zh.ORDER_ID_RE)
            if named and named != tracker.get_slot("order_id"):  # another order: a fresh start
                return [SlotSet("pending_request", tracker.get_slot("pending_request") or "status"),
                        *_fresh_case()]
            return [SlotSet("pending_request", tracker.get_slot("pending_request") or "status"),
                    SlotSet("awaiting", None)]
        if request == "compensation":  # about the problem at hand, or the one this message names
            problem = problem_from_text(text) or tracker.get_slot("problem")
            if problem == tracker.get_slot("problem"):
                return [SlotSet("pending_request", request), SlotSet("awaiting", None)]
            return [SlotSet("pending_request", request), *_fresh_case(), SlotSet("problem", problem)]
        return [SlotSet("pending_request", request), *_fresh_case(), SlotSet("problem", request)]


def _fresh_case() -> List[EventType]:
    """A new request starts from clean dialogue state: its own case, no old offer, no old question."""
    return [SlotSet("case_id", None), SlotSet("negotiation", None), SlotSet("awaiting", None)]


def _said_outside_order_ids(proof: str, tracker: Tracker) -> bool:
    """Was ``proof`` typed in this message, other than as part of an order number?"""
    text = re.sub(r"[\s\-]", "", str(tracker.latest_message.get("text") or ""))
    return proof in zh.ORDER_ID_RE.sub(" ", text)


def _digits(value: Any, pattern: "re.Pattern[str]") -> Optional[str]:
    match = pattern.search(str(value or "").replace(" ", "").replace("-", ""))
    return match.group(0) if match else None


class ValidateOrderForm(FormValidationAction):
    """Validates the order number and the proof of ownership."""

    def name(self) -> Text:
        return "validate_order_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        """Nothing more to ask once the order is proven, or once it is locked."""
        if tracker.get_slot("order_locked"):
            return []
        verified = tracker.get_slot("verified_order")
        if verified and verified == tracker.get_slot("order_id"):
            return []
        return domain_slots

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A 16-digit number anywhere in the message is an order number."""
        found = _digits(tracker.latest_message.get("text"), zh.ORDER_ID_RE)
        return {"order_id": found} if found else {}

    def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        order_id = _digits(value, zh.ORDER_ID_RE)
        if not order_id:
            say(dispatcher, tracker, pick(_NOT_AN_ORDER_ID))
            return {"order_id": None}
        repo = runtime.get().repo
        if repo.get_order(order_id) is None:
            say(dispatcher, tracker, pick(_NO_SUCH_ORDER).format(order_id=order_id))
            return {"order_id": None}
        if tracker.get_slot("verified_order") == order_id:
            return {"order_id": order_id}
        full_phone = _digits(tracker.get_slot("phone"), zh.MOBILE_RE)
        if full_phone and repo.verify_owner(order_id, full_phone):
            return {"order_id": order_id, "verified_order": order_id, "proof_failures": 0}
        # a new order needs its own proof
        return {"order_id": order_id, "phone": None}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        order_id = tracker.get_slot("order_id")
        if not order_id:
            return self._phone_without_order(value, dispatcher, tracker)
        proof = _digits(value, zh.MOBILE_RE) or _digits(value, zh.PHONE_TAIL_RE)
        if proof and not _said_outside_order_ids(proof, tracker):
            return {"phone": None}  # digits of the order number itself, or an old proof: not a proof now
        if not proof:
            say(dispatcher, tracker, pick(_NOT_A_PROOF))
            return {"phone": None}
        if runtime.get().repo.verify_owner(order_id, proof):
            return {"phone": proof, "verified_order": order_id, "proof_failures": 0}
        return self._wrong_proof(dispatcher, tracker)

    def _wrong_proof(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        failures = int(tracker.get_slot("proof_failures") or 0) + 1
        if failures >= MAX_PROOF_FAILURES:
            say(
                dispatcher,
                tracker,
                pick(_LOCKED),
                buttons=[button("转人工客服", "ask_human")],
            )
            return {"phone": None, "proof_failures": failures, "order_locked": True}
        left = MAX_PROOF_FAILURES - failures
        say(dispatcher, tracker, pick(_WRONG_PROOF).format(left=left))
        return {"phone": None, "proof_failures": failures}

    def _phone_without_order(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[Text, Any]:
        """A full phone number first: list its recent orders to choose from."""
        phone = _digits(value, zh.MOBILE_RE)
        if not phone:
            return {"phone": None}
        orders = runtime.get().repo.orders_for_phone(phone, limit=5)
        if not orders:
            say(dispatcher, tracker, pick(_NO_ORDERS_FOR_PHONE))
            return {"phone": None}
        buttons = [
            button(f"{o.order_id[-6:]} · {o.items[0].name}" + (" 等" if len(o.items) > 1 else ""),
                   "inform_order", order_id=o.order_id)
            for o in orders
        ]
        say(dispatcher, tracker, pick(_CHOOSE_ORDER).format(n=len(orders)), buttons=buttons)
        return {"phone": phone}


_NOT_AN_ORDER_ID = (
    "订单号是 16 位数字，您可以在“我的订单”里长按复制后发给我。",
    "这个好像不是订单号哦，订单号是 16 位数字，麻烦再核对一下～",
)
_NO_SUCH_ORDER = (
    "没有查到订单号 {order_id}，麻烦您核对一下是否有数字输错了？",
    "抱歉，系统里没找到 {order_id} 这笔订单。请再确认一下订单号，或者告诉我下单手机号。",
)
_NOT_A_PROOF = (
    "请发一下下单手机号的后四位（4 位数字）就可以啦。",
    "核对身份只需要下单手机号的后四位数字，麻烦您发一下～",
)
_WRONG_PROOF = (
    "手机号后四位和这笔订单对不上，麻烦再核对一下（还可以再试 {left} 次）。",
    "抱歉，这个号码与订单的下单手机不一致。请确认后再发一次，还剩 {left} 次机会。",
)
_LOCKED = (
    "为了保护订单信息的安全，核对失败次数太多，这笔订单我先不能在这里查询了。"
    "我可以帮您转接人工客服，由同事协助您核实身份。",
    "抱歉，连续三次都没能核对上，出于安全考虑我暂时不能再查这笔订单。"
    "需要的话我帮您转人工客服继续处理。",
)
_NO_ORDERS_FOR_PHONE = (
    "这个手机号下没有查到最近的订单。请确认是下单时用的号码，或者直接发订单号给我。",
    "没有找到这个号码的订单哦，方便的话请直接提供订单号。",
)
_CHOOSE_ORDER = (
    "这个手机号最近有 {n} 笔订单，请点选您要咨询的那一笔：",
    "找到 {n} 笔订单，是哪一笔呢？点一下就好：",
)
