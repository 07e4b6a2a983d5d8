"""Which order, and is it the shopper's? (a shopper sees only their own orders)

A shop's signed-in customer (the widget checked the shop's signature, ``bot.identity``)
picks from their own orders and needs no further proof. Anyone else gives an order number,
then proves it is theirs with the last four digits of the phone it was placed with (or the
full phone). Wrong proofs are counted per order number in the database, across
conversations; a few lock the number out for a while and a human is offered, in one
message. Every 16-digit number gets the same questions and the same answers whether or not
the order exists, a phone number alone lists nothing, and nothing about an order (not in
buttons, payloads or cards) is shown before the proof.
"""

from __future__ import annotations

import re
import time
import weakref
from datetime import timedelta
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.cases import choice_in
from actions.replies import button, pick, say
from bot import text as zh
from bot.identity import attempts_left, locked_until
from bot.requests import (
    PROBLEM_KINDS,
    apology,
    other_item,
    problem_from_text,
    request_for_intent,
    second_request,
)
from bot.topics import TOPICS, topic_for_intent


class ActionSetRequest(Action):
    """Remember what the shopper asked for while we find the order."""

    def name(self) -> Text:
        return "action_set_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        # a question about an order (an invoice, a new address …) gets the usual way first; what
        # *this* order allows comes once the order is proven (bot.topics)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if topic_for_intent(intent) and not tracker.get_slot("verified_order"):
            dispatcher.utter_message(response=f"utter_{intent}")
        # a new request may name another order: the database's lock-out (bot.identity) guards each
        # order number, so the conversation's own flag starts again
        events = [*self._request_events(tracker), SlotSet("order_locked", False)]
        return [*events, *self._another_order(dispatcher, tracker, events)]

    @staticmethod
    def _another_order(dispatcher: CollectingDispatcher, tracker: Tracker, events: List[EventType]) -> List[EventType]:
        """"我上次买的电吹风坏了" while the kettle's order is proven: ask which order, do not decide on
        the kettle's. The proof of the kettle's order stays (its number again needs no new proof)."""
        proven = tracker.get_slot("verified_order")
        text = zh.to_simplified(tracker.latest_message.get("text") or "")
        if not proven or proven != tracker.get_slot("order_id") or _digits(text, zh.ORDER_ID_RE):
            return []
        if any(e.get("name") == "choice_answer" for e in events):
            return []
        repo = runtime.get().repo
        order = repo.get_order(proven)
        other = other_item(text, [i.name for i in order.items] if order else [], _catalogue(repo))
        if other is None:
            return []
        # what waited on the proven order stays with it (its case is open in the database, R15)
        fresh = [*fresh_case(), SlotSet("next_request", None), SlotSet("interrupted", None)]
        for earlier in reversed(tracker.get_slot("proven_orders") or []):  # proven before in this chat
            known = repo.get_order(earlier) if other and earlier != proven else None
            if known and other in [i.name for i in known.items]:
                say(dispatcher, tracker, pick(_BACK_TO_ORDER, tracker).format(what=other, tail=earlier[-4:]))
                return [*fresh, SlotSet("order_id", earlier), SlotSet("verified_order", earlier)]
        say(dispatcher, tracker, pick(_OTHER_ORDER, tracker).format(what=other) if other else pick(_ANOTHER_ORDER, tracker))
        return [*fresh, SlotSet("order_id", None), SlotSet("phone", None)]

    @staticmethod
    def _request_events(tracker: Tracker) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        request = request_for_intent(intent)
        text = zh.to_simplified(tracker.latest_message.get("text") or "")
        choice = choice_in(tracker)
        if choice:  # "还是退钱吧" answers the pending question; the case and its state stay as they are
            return [SlotSet("choice_answer", choice)]
        if request is None:  # an order number alone: keep what was asked, else show status
            named = _digits(text, zh.ORDER_ID_RE)
            if named and named != tracker.get_slot("order_id"):  # another order: a fresh start
                return [SlotSet("pending_request", tracker.get_slot("pending_request") or "status"),
                        *fresh_case(), SlotSet("next_request", None)]
            return [SlotSet("pending_request", tracker.get_slot("pending_request") or "status"),
                    SlotSet("awaiting", None)]
        if request in TOPICS:  # not a case: the problem and a remembered second problem stay as they are
            events = [SlotSet("pending_request", request), SlotSet("awaiting", None)]
            earlier = tracker.get_slot("pending_request")
            named = _digits(text, zh.ORDER_ID_RE)
            same_order = named in (None, tracker.get_slot("order_id"))
            if earlier in PROBLEM_KINDS and tracker.get_slot("awaiting") and same_order:
                events.append(SlotSet("interrupted", earlier))  # the waiting case comes back after the answer
            return events
        if request == "compensation":  # about the problem at hand, or the one this message names
            problem = problem_from_text(text) or tracker.get_slot("problem")
            if problem == tracker.get_slot("problem"):
                return [SlotSet("pending_request", request), SlotSet("awaiting", None)]
            return [SlotSet("pending_request", request), *fresh_case(), SlotSet("problem", problem)]
        return [SlotSet("pending_request", request), *fresh_case(), SlotSet("problem", request),
                *_next_request(tracker, request, text)]


def _next_request(tracker: Tracker, request: str, text: str) -> List[EventType]:
    """The second problem this message names, kept for after this case (issue #13 point 5).

    A shopper who turns to the remembered problem before the first one is finished swaps them:
    the unfinished case (still open in the database) is the one remembered now."""
    second = second_request(text, request)
    if second:
        return [SlotSet("next_request", second)]
    remembered = tracker.get_slot("next_request")
    if remembered != request:
        return []
    earlier = tracker.get_slot("pending_request")
    unfinished = earlier in PROBLEM_KINDS and earlier != request and tracker.get_slot("awaiting")
    return [SlotSet("next_request", earlier if unfinished else None)]


def fresh_case() -> List[EventType]:
    """A new request starts from clean dialogue state: its own case, no old offer, no old question."""
    return [SlotSet("case_id", None), SlotSet("negotiation", None), SlotSet("awaiting", None)]


def _said_outside_order_ids(proof: str, tracker: Tracker) -> bool:
    """Was ``proof`` typed in this message, other than as part of an order number?"""
    text = re.sub(r"[\s\-]", "", str(tracker.latest_message.get("text") or ""))
    return proof in zh.ORDER_ID_RE.sub(" ", text)


def _digits(value: Any, pattern: "re.Pattern[str]") -> Optional[str]:
    match = pattern.search(str(value or "").replace(" ", "").replace("-", ""))
    return match.group(0) if match else None


def _latest_metadata(tracker: Tracker) -> Dict[str, Any]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("metadata") or {}
    return {}


def shop_customer(tracker: Tracker) -> Optional[str]:
    """The signed-in customer the shop vouched for on this message (the widget checked the signature)."""
    customer = _latest_metadata(tracker).get("customer_id")
    return customer if isinstance(customer, str) and customer else None


def _client(tracker: Tracker) -> Optional[str]:
    client = _latest_metadata(tracker).get("client")
    return client if isinstance(client, str) else None


def _customer_buttons(customer: str) -> List[Dict[str, str]]:
    orders = runtime.get().repo.orders_for_customer(customer, limit=5)
    return [
        button(f"{o.order_id[-6:]} · {o.items[0].name}" + (" 等" if len(o.items) > 1 else ""),
               "inform_order", order_id=o.order_id)
        for o in orders
    ]  # fmt: skip


class ActionAskOrderId(Action):
    """The form's question for the order number; a signed-in customer picks from their own orders."""

    def name(self) -> Text:
        return "action_ask_order_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        customer = shop_customer(tracker)
        orders = _customer_buttons(customer) if customer else []
        ask = pick(_CHOOSE_ORDER, tracker).format(n=len(orders)) if orders else pick(_ASK_ORDER_ID, tracker)
        # an upset shopper hears a plain apology and what we understood first, a person if very upset (R17)
        sorry = apology(zh.to_simplified(tracker.latest_message.get("text") or ""), tracker.get_slot("problem"))
        human = [button("转人工客服", "ask_human")] if sorry and "转人工" in sorry else []
        say(dispatcher, tracker, (sorry or "") + ask, buttons=[*orders, *human])
        return []


class ActionAskPhone(Action):
    """The form's question for the proof; an upset shopper who gave the order number at once hears
    the apology first (R17), the question itself is ``utter_ask_phone``."""

    def name(self) -> Text:
        return "action_ask_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        sorry = apology(zh.to_simplified(tracker.latest_message.get("text") or ""), tracker.get_slot("problem"))
        if sorry:
            human = [button("转人工客服", "ask_human")] if "转人工" in sorry else []
            say(dispatcher, tracker, sorry, buttons=human)
        if not _proof_just_refused(tracker):  # "对不上…再发一次后四位" already asked, with the tries left
            dispatcher.utter_message(response="utter_ask_phone")
        return []


_CATALOGUE: "weakref.WeakKeyDictionary[Any, Tuple[float, List[str]]]" = weakref.WeakKeyDictionary()
CATALOGUE_SECONDS = 300.0


def _catalogue(repo: Any) -> List[str]:
    """The names of the goods the shop sells, read at most every five minutes (one DISTINCT over
    all order lines is too much for every message of a large shop)."""
    now = time.monotonic()
    fetched = _CATALOGUE.get(repo)
    if fetched is None or now - fetched[0] > CATALOGUE_SECONDS:
        fetched = _CATALOGUE[repo] = (now, repo.item_names())
    return fetched[1]


def _remember_proof(result: Dict[Text, Any], tracker: Tracker) -> Dict[Text, Any]:
    """Every order this conversation proved (``proven_orders``): going back to one ("那个热水壶呢",
    then its number) needs no second proof. Only the last few are kept."""
    proven = result.get("verified_order")
    earlier = list(tracker.get_slot("proven_orders") or [])
    if proven and proven not in earlier:
        result["proven_orders"] = [*earlier, proven][-10:]
    return result


def _proof_just_refused(tracker: Tracker) -> bool:
    """Whether this turn already told the shopper the proof did not match (``_WRONG_PROOF``)."""
    said = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            said.append(zh.to_simplified(event.get("text") or ""))
    return any(variant[:12] in text for variant in _WRONG_PROOF for text in said)


class ValidateOrderForm(FormValidationAction):
    """Validates the order number and the proof of ownership (see ``bot.identity``)."""

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
        """Any 16-digit number is asked for its proof; a second problem remembered for another
        order is forgotten when the shopper turns to a different order (it was about that one)."""
        result = self._validate_order_id(value, dispatcher, tracker)
        earlier = tracker.get_slot("order_id")
        if result.get("order_id") and earlier and _digits(earlier, zh.ORDER_ID_RE) != result["order_id"]:
            result["next_request"] = None
        return _remember_proof(result, tracker)

    def _validate_order_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        """Any 16-digit number is asked for its proof: whether the order exists is not said."""
        order_id = _digits(value, zh.ORDER_ID_RE)
        if not order_id:
            if value and not _digits(value, zh.MOBILE_RE):  # a phone number is answered by validate_phone
                # (nothing at all is the slot cleared this turn for another order: nothing to say)
                say(dispatcher, tracker, pick(_NOT_AN_ORDER_ID, tracker))
            return {"order_id": None}
        if tracker.get_slot("verified_order") == order_id:
            return {"order_id": order_id}
        if order_id in (tracker.get_slot("proven_orders") or []):  # proven earlier in this conversation
            return {"order_id": order_id, "verified_order": order_id, "phone": None, "order_locked": False}
        repo = runtime.get().repo
        customer = shop_customer(tracker)
        if customer and repo.customer_owns(customer, order_id):
            return {"order_id": order_id, "verified_order": order_id, "phone": None, "order_locked": False}
        if self._locked(order_id):
            return self._say_locked(dispatcher, tracker)
        full_phone = _digits(tracker.get_slot("phone"), zh.MOBILE_RE)
        if full_phone and repo.verify_owner(order_id, full_phone):
            repo.clear_proof_failures(order_id)
            return {
                "order_id": order_id,
                "verified_order": order_id,
                "proof_failures": 0,
                "order_locked": False,
            }
        # a new order needs its own proof
        return {"order_id": order_id, "phone": None, "order_locked": False}

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
            say(dispatcher, tracker, pick(_NOT_A_PROOF, tracker))
            return {"phone": None}
        if self._locked(order_id) or self._sender_blocked(tracker):
            return self._say_locked(dispatcher, tracker)
        repo = runtime.get().repo
        if repo.verify_owner(order_id, proof):
            repo.clear_proof_failures(order_id)
            return _remember_proof({"phone": proof, "verified_order": order_id, "proof_failures": 0}, tracker)
        return self._wrong_proof(order_id, dispatcher, tracker)

    def _recent_failures(self, order_id: str) -> List[Any]:
        rt = runtime.get()
        since = rt.clock() - timedelta(minutes=rt.settings.identity.failure_window_minutes)
        return rt.repo.proof_failures_since(order_id, since)

    def _locked(self, order_id: str) -> bool:
        rt = runtime.get()
        rules = rt.settings.identity
        until = locked_until(
            self._recent_failures(order_id), rt.clock(), rules.max_proof_failures, rules.lockout_minutes
        )
        return until is not None

    def _sender_blocked(self, tracker: Tracker) -> bool:
        """Too many wrong proofs from this conversation or this address, over all order numbers
        (someone trying one tail against many orders)."""
        rt = runtime.get()
        rules = rt.settings.identity
        since = rt.clock() - timedelta(minutes=rules.failure_window_minutes)
        if rt.repo.proof_failures_by(since, conversation_id=tracker.sender_id) >= rules.max_failures_per_conversation:
            return True
        client = _client(tracker)
        return bool(client) and rt.repo.proof_failures_by(since, client=client) >= rules.max_failures_per_client

    def _say_locked(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        """One message: why, for how long, and a human (the form ends; nothing else is said)."""
        minutes = runtime.get().settings.identity.lockout_minutes
        say(
            dispatcher,
            tracker,
            pick(_LOCKED, tracker).format(minutes=minutes),
            buttons=[button("转人工客服", "ask_human")],
        )
        return {"order_id": None, "phone": None, "order_locked": True}

    def _wrong_proof(
        self, order_id: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[Text, Any]:
        rt = runtime.get()
        rt.repo.record_proof_failure(order_id, tracker.sender_id, _client(tracker))
        if self._locked(order_id):
            return {
                **self._say_locked(dispatcher, tracker),
                "proof_failures": rt.settings.identity.max_proof_failures,
            }
        failures = self._recent_failures(order_id)
        left = attempts_left(failures, rt.settings.identity.max_proof_failures)
        say(dispatcher, tracker, pick(_WRONG_PROOF, tracker).format(left=left))
        return {"phone": None, "proof_failures": len(failures)}

    def _phone_without_order(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[Text, Any]:
        """A phone number first: a signed-in customer picks from their orders; anyone else is
        asked for the order number (a phone alone lists nothing: it is printed on every parcel)."""
        if not _digits(value, zh.MOBILE_RE):
            return {"phone": None}
        customer = shop_customer(tracker)
        buttons = _customer_buttons(customer) if customer else []
        if buttons:
            say(dispatcher, tracker, pick(_CHOOSE_ORDER, tracker).format(n=len(buttons)), buttons=buttons)
        else:
            say(dispatcher, tracker, pick(_PHONE_IS_NOT_ENOUGH, tracker))
        return {"phone": None}


_NOT_AN_ORDER_ID = (
    "订单号是 16 位数字，您可以在“我的订单”里长按复制后发给我。",
    "这个好像不是订单号哦，订单号是 16 位数字，麻烦再核对一下～",
)
_NOT_A_PROOF = (
    "请发一下下单手机号的后四位（4 位数字）就可以啦。",
    "核对身份只需要下单手机号的后四位数字，麻烦您发一下～",
)
_WRONG_PROOF = (
    "订单号和下单手机号的后四位对不上，麻烦核对一下，再发一次手机号后四位（还可以再试 {left} 次）。",
    "抱歉，订单号和手机号后四位对不上：请确认订单号没有输错，再发一次下单手机号的后四位，还剩 {left} 次机会。",
)
_LOCKED = (
    "为了保护订单信息的安全，这个订单号核对失败的次数太多，{minutes} 分钟内不能在这里查询了。"
    "需要的话请点下面的按钮，人工客服同事会协助您核实身份。",
    "抱歉，这个订单号连续几次都没能核对上，出于安全考虑，{minutes} 分钟内我不能再查它了。"
    "您可以点下面的按钮转人工客服，由同事帮您核实身份后继续处理。",
)
_OTHER_ORDER = (
    "{what}应该是另一笔订单吧？刚才核对的那笔里没有它。",
    "明白，{what}是另外一笔订单的。",
)
_BACK_TO_ORDER = ("好的，说回{what}那笔订单（尾号 {tail}）。", "明白，是尾号 {tail} 那笔的{what}。")
_ANOTHER_ORDER = ("好的，说的是另一笔订单。", "明白，是另外一笔订单的事。")
_ASK_ORDER_ID = (
    "麻烦您提供一下订单号（16 位数字，在“我的订单”里可以复制），我马上帮您查。",
    "请问是哪一笔订单呢？发一下订单号（16 位数字）就好。",
)
_PHONE_IS_NOT_ENOUGH = (
    "为了保护您的信息，只凭手机号我不能列出订单。请发一下订单号（16 位数字，在“我的订单”里可以复制）。",
    "收到手机号啦。为了安全，还需要您发一下订单号（16 位数字），我再请您核对手机号后四位。",
)
_CHOOSE_ORDER = (
    "您最近有 {n} 笔订单，请点选您要咨询的那一笔：",
    "找到您的 {n} 笔订单，是哪一笔呢？点一下就好：",
)
