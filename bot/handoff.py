"""The handoff record (R15): what an agent reads so the shopper never repeats the story.

Works on Rasa's tracker events as plain dicts (no Rasa import), so the agent console,
the action server and tests share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

from bot.privacy import mask_personal
from bot.text import mask_phone

MAX_LINES = 40


@dataclass(frozen=True)
class Summary:
    reason: str
    text: str


def transcript(events: Iterable[Dict[str, Any]], max_lines: int = MAX_LINES) -> List[str]:
    """The conversation as lines, oldest first, user and bot only."""
    lines = []
    for event in events:
        kind = event.get("event")
        if kind == "user" and event.get("text"):
            lines.append("顾客：" + mask_personal(str(event["text"])[:500]))  # phones masked (#11)
        elif kind == "bot" and event.get("text"):
            lines.append("助手：" + mask_personal(str(event["text"])[:500]))
    return lines[-max_lines:]


def _reason(events: List[Dict[str, Any]], slots: Dict[str, Any]) -> str:
    if slots.get("order_locked"):
        return "身份核对失败三次"
    last_intent: Optional[str] = None
    for event in reversed(events):
        if event.get("event") == "user":
            last_intent = (event.get("parse_data", {}).get("intent") or {}).get("name")
            break
    if last_intent == "ask_human":
        return "顾客要求人工"
    if last_intent == "complain":
        return "顾客投诉"
    if last_intent == "nlu_fallback":
        return "助手多次未能理解"
    return "需要人工判断"


def summarize(events: Iterable[Dict[str, Any]], slots: Dict[str, Any]) -> Summary:
    """A short header of the known facts, then the transcript."""
    events = list(events)
    facts = []
    if slots.get("verified_order"):
        facts.append(f"订单：{slots['verified_order']}（已核对身份）")
    elif slots.get("order_id"):
        facts.append(f"订单：{slots['order_id']}（未核对身份）")
    if slots.get("phone"):
        facts.append(f"手机：{mask_phone(str(slots['phone']))}")
    if slots.get("pending_request"):
        facts.append(f"诉求：{slots['pending_request']}")
    if slots.get("case_id"):
        facts.append(f"售后单：#{int(slots['case_id'])}")
    reason = _reason(events, slots)
    text = "\n".join([f"转人工原因：{reason}", *facts, "—— 对话记录 ——", *transcript(events)])
    return Summary(reason=reason, text=text)
