"""Partial compensation when the shopper keeps the item (R9, R10, R17).

Plain Python, no Rasa: ``actions/bargaining.py`` keeps the ``Negotiation`` in a slot
(``to_dict``/``from_dict``) and turns each ``Reply`` into a message and, on a deal, one
refund stored under ``Reply.refund_key``.

    neg, reply = start(order, "color_mismatch", settings.compensation, rng=rng)
    neg, reply = respond(neg, "至少賠我五十塊", rng=rng)
    neg, reply = accept(neg, rng=rng)   # or decline(neg)
"""

from bot.bargain.config import BargainConfig, load_config
from bot.bargain.engine import accept, decline, refund_key, respond, restate, start, start_item
from bot.bargain.parse import Move, interpret
from bot.bargain.plan import Plan, Route, make_plan, route_of
from bot.bargain.state import STATUSES, HistoryEntry, Negotiation, Reply

__all__ = [
    "BargainConfig",
    "HistoryEntry",
    "Move",
    "Negotiation",
    "Plan",
    "Reply",
    "Route",
    "STATUSES",
    "accept",
    "decline",
    "interpret",
    "load_config",
    "make_plan",
    "refund_key",
    "respond",
    "restate",
    "route_of",
    "start",
    "start_item",
]
