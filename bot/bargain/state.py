"""A negotiation as plain data: it lives in a Rasa slot as JSON and in the agent console.

Everything the engine needs to continue is in here (the plan, the position, the
history), so an action-server restart, or another worker, picks up where it stopped.
Amounts are serialised as strings: JSON floats would turn 8.5 元 into 8.4999….
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal
from typing import Any, Dict, Optional, Tuple

OPEN = "open"
ACCEPTED = "accepted"
DECLINED_FINAL = "declined_final"  # rounds used up, the shop's last offer still stands
ESCALATED = "escalated"  # handed to a human agent
CLOSED = "closed"  # the shopper declined, or there was nothing to offer
STATUSES = (OPEN, ACCEPTED, DECLINED_FINAL, ESCALATED, CLOSED)


def _amount(value: Any) -> Optional[Decimal]:
    return None if value is None else Decimal(str(value))


def _text(value: Optional[Decimal]) -> Optional[str]:
    return None if value is None else str(value)


@dataclass(frozen=True)
class HistoryEntry:
    """One move: who (shop|shopper), which round, what amount, the words, what it meant."""

    round: int
    actor: str
    amount: Optional[Decimal]
    text: str
    outcome: str

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data["amount"] = _text(self.amount)
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "HistoryEntry":
        return cls(
            int(data["round"]),
            str(data["actor"]),
            _amount(data.get("amount")),
            str(data.get("text", "")),
            str(data.get("outcome", "")),
        )


@dataclass(frozen=True)
class Negotiation:
    """The shop's plan and position for one item of one order.

    ``offer`` is the standing offer (never decreases); ``agreed`` is what was paid (the
    shopper may ask for less than the offer). ``refund_key`` is set once, on acceptance.
    """

    id: str
    item_name: str
    price: Decimal
    cost: Decimal
    route: str
    kind: str
    severity: str
    basis: str
    opening: Decimal
    ceiling: Decimal
    margin_cap: Decimal
    high_value: bool
    schedule: Tuple[Decimal, ...]
    offer: Decimal
    max_rounds: int
    rounds_used: int = 0
    turns: int = 0
    status: str = "open"
    history: Tuple[HistoryEntry, ...] = ()
    agreed: Optional[Decimal] = None
    refund_key: Optional[str] = None
    order_id: Optional[str] = None
    origin: str = ""
    dest: str = ""
    meet_within: Decimal = Decimal(2)
    concede_above_ceiling: bool = True

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @property
    def max_turns(self) -> int:
        """A bound on shopper messages of any kind, so unclear chatter also ends."""
        return 3 * self.max_rounds + 2

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready: Decimals as strings, history as a list of dicts."""
        data: Dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Decimal):
                value = str(value)
            elif f.name == "schedule":
                value = [str(v) for v in value]
            elif f.name == "history":
                value = [entry.to_dict() for entry in value]
            data[f.name] = value
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Negotiation":
        """Inverse of ``to_dict``; keys it does not know (a caller's extras) are ignored."""
        kwargs: Dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if f.name == "schedule":
                value = tuple(Decimal(str(v)) for v in value)
            elif f.name == "history":
                value = tuple(HistoryEntry.from_dict(e) for e in value)
            elif f.name in ("price", "cost", "opening", "ceiling", "margin_cap", "offer", "meet_within"):
                value = Decimal(str(value))
            elif f.name == "agreed":
                value = _amount(value)
            kwargs[f.name] = value
        return cls(**kwargs)


@dataclass(frozen=True)
class Reply:
    """What to say, and what it commits the shop to.

    ``amount`` is the amount on the table (offer or deal), None when nothing is offered.
    ``refund_key`` is set only on the reply that concludes a deal: the caller stores the
    refund with it (repository.create_refund is unique on the key). ``options`` lists what
    the shopper may do next (accept, decline, return, exchange, human) for buttons.
    """

    kind: str
    text: str
    amount: Optional[Decimal] = None
    refund_key: Optional[str] = None
    options: Tuple[str, ...] = field(default_factory=tuple)
