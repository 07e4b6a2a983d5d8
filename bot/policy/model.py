"""What the policy is asked (Request) and what it answers (Action, Decision)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Dict, Optional


class Request(str, Enum):
    """What the shopper asks for, with the values of ``bot.requests`` (NLU-independent)."""

    STATUS = "status"
    DELAY = "delay"
    LOST = "lost"
    REFUND_ONLY = "refund_only"
    RETURN = "return"
    EXCHANGE = "exchange"
    COLOR_MISMATCH = "color_mismatch"
    SIZE_MISMATCH = "size_mismatch"
    QUALITY_ISSUE = "quality_issue"
    WRONG_ITEM = "wrong_item"
    WARRANTY = "warranty"
    CANCEL = "cancel"


class Action(str, Enum):
    """What the shop does next. Grouped by the rule that mostly yields each."""

    # R1 before the pickup scan
    ASK_STILL_WANTS = "ask_still_wants"
    REFUND_NOW = "refund_now"
    SHIP_AND_WITHDRAW = "ship_and_withdraw"
    # R2 / R12 after the pickup scan
    RECALL_OR_REFUSE_THEN_REFUND = "recall_or_refuse_then_refund"
    # R5 refused parcel / return-and-refund
    APPROVE_REFUND = "approve_refund"
    APPROVE_RETURN_ASK_TRACKING = "approve_return_ask_tracking"
    # R6 seven-day no-reason return / exchange
    APPROVE_EXCHANGE_ASK_TRACKING = "approve_exchange_ask_tracking"
    DENY_RETURN_SPECIAL_GOODS = "deny_return_special_goods"
    RETURN_WINDOW_PASSED = "return_window_passed"
    # R8 / R10 / R16 product problems
    ASK_EVIDENCE = "ask_evidence"
    OFFER_EXCHANGE_SHOP_PAYS = "offer_exchange_shop_pays"
    OFFER_OPTIONS_OR_COMPENSATION = "offer_options_or_compensation"
    RESHIP_MISSING = "reship_missing"
    # R4 / R11 logistics
    TELL_LOCATION = "tell_location"
    PROMISE_NEWS = "promise_news"
    RESHIP_OR_REFUND = "reship_or_refund"
    # R13 warranty (三包)
    RETURN_WITHIN_7 = "return_within_7"
    EXCHANGE_WITHIN_15 = "exchange_within_15"
    REPAIR_IN_WARRANTY = "repair_in_warranty"
    REPLACE_SMALL_APPLIANCE = "replace_small_appliance"
    MANUFACTURER_SERVICE = "manufacturer_service"
    OUT_OF_WARRANTY = "out_of_warranty"
    NOISE_NOT_FAILURE = "noise_not_failure"
    # R9 partial compensation (bot.policy.compensation)
    OPEN_NEGOTIATION = "open_negotiation"
    NO_COMPENSATION = "no_compensation"
    ASK_PROBLEM = "ask_problem"
    # R16 no photo now: what needs none, and a reminder
    OFFER_WITHOUT_EVIDENCE = "offer_without_evidence"
    # a person decides case by case (R8 refunds, R15)
    HANDOFF = "handoff"


# Answers that turn the shopper down: R16 wants a reason for each, and a request for
# evidence wherever evidence could change the answer.
REFUSALS = frozenset(
    {
        Action.DENY_RETURN_SPECIAL_GOODS,
        Action.RETURN_WINDOW_PASSED,
        Action.OUT_OF_WARRANTY,
        Action.NOISE_NOT_FAILURE,
        Action.NO_COMPENSATION,
    }
)


@dataclass(frozen=True)
class Decision:
    """One decision: what to do, which rule says so, and why, in words for the shopper.

    ``facts`` holds the figures the decision used (hours without pickup, days since
    delivery, deadlines, amounts, the return address), so replies, cases and agents can
    show them without recomputing. ``follow_up_hours`` is an R14 promise to record.
    """

    action: Action
    rule: str
    reason: str
    facts: Dict[str, Any] = field(default_factory=dict)
    refund_amount: Optional[Decimal] = None
    needs_evidence: bool = False
    follow_up_hours: Optional[int] = None
    return_address: Optional[str] = None

    @property
    def is_refusal(self) -> bool:
        return self.action in REFUSALS

    def facts_for_storage(self) -> Dict[str, Any]:
        """The facts as JSON-ready values (ISO dates, amounts as strings) for a case's detail."""
        return {key: _plain(value) for key, value in self.facts.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
