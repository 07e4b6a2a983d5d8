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


# R13: what kind of fault the shopper describes. Only a real performance failure
# (e.g. a disk that cannot be formatted) opens the 7-day return for a hard disk; noise does not.
_FAULTS = (
    ("cannot_format", ("格式化", "无法识别", "识别不了", "读不出", "读不了")),
    ("noise", ("异响", "噪音", "有响声", "咔咔", "滋滋")),
    ("missing", ("少了", "漏发", "少发", "缺了", "没有配件")),
    ("performance", ("坏了", "不能用", "用不了", "开不了机", "开不开机", "不工作", "不转", "没反应",
                     "死机", "黑屏", "充不进电", "不出风", "不加热", "不制热", "没声音")),
)


def fault_from_text(texts: "list[str]") -> Optional[str]:
    """The fault the shopper describes in their (Simplified) messages, most specific first."""
    joined = " ".join(texts)
    for fault, words in _FAULTS:
        if any(w in joined for w in words):
            return fault
    return None
