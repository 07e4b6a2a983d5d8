"""The shop's after-sales policy: rules R1-R13 and R16 of ../shared/DOMAIN.md, in plain Python.

``decide(order, request, now, settings, ...)`` returns a ``Decision``: what to do
(``Action``), the rule that says so, the reason in words for the shopper (with 您, and
every figure explained), the facts it used, and any refund, evidence request, promise
(follow-up hours) or return address. Pure functions: ``now`` is always passed in.

Modules: ``logistics`` (R4, R11), ``refunds`` (R1, R2, R3, R5, R12), ``returns`` (R6),
``problems`` (R8, R10, R16 without a photo), ``warranty`` (R13), ``compensation`` (whether R9
may be negotiated), ``decide`` (routing, R7 deadline facts).
"""

from bot.policy.compensation import compensation, compensation_item
from bot.policy.decide import decide, without_evidence
from bot.policy.model import REFUSALS, Action, Decision, Request
from bot.policy.timing import response_deadline

__all__ = [
    "REFUSALS", "Action", "Decision", "Request", "compensation", "compensation_item", "decide",
    "response_deadline", "without_evidence",
]
