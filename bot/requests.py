"""What the shopper is asking for, named independently of the NLU's intent names."""

from __future__ import annotations

from typing import Dict, Optional

# intent (../shared/INTENTS.md) -> request handled by the after-sales policy
INTENT_REQUESTS: Dict[str, str] = {
    "check_order_status": "status",
    "shipping_delay": "delay",
    "lost_package": "lost",
    "request_return": "return",
    "request_refund_only": "refund_only",
    "request_exchange": "exchange",
    "color_mismatch": "color_mismatch",
    "size_mismatch": "size_mismatch",
    "quality_issue": "quality_issue",
    "wrong_item": "wrong_item",
    "warranty_repair": "warranty",
    "keep_with_compensation": "compensation",
    "complain": "complaint",
}


def request_for_intent(intent: Optional[str]) -> Optional[str]:
    """The request an intent stands for, or None (greetings, order numbers, ...)."""
    return INTENT_REQUESTS.get(intent or "")
