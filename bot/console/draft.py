"""The bot's suggested answer, offered to the agent as a draft (issue #12).

While a person has the conversation the bot predicts nothing (bot/console/gate.py). When the
agent asks, this reads the conversation as the bot would if it were resumed: the latest shopper
message as the NLU read it, the next action the policies choose, and, when that action is one of
the domain's responses, its text as the bot would word it (in the shopper's script). Nothing is
sent, stored or executed: the tracker is a copy, and custom actions (which look orders up and
write decisions) are never run; for those the draft says what the bot would have done, so the
agent does it with the console's own buttons (refund, offer, promise), under the same rules.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

logger = logging.getLogger(__name__)

# what a custom action would have done, told to the agent instead of running it
ACTION_HINTS = {
    "action_set_request": "助手会记下顾客要办的事（退货、换货、色差等），然后核对订单。",
    "action_ask_order_id": "助手会请顾客提供订单号（已登录的顾客可以从自己的订单里选）。",
    "action_ask_phone": "助手会请顾客提供下单手机号的后四位，以确认是本人的订单。",
    "order_form": "助手会核对订单号和手机尾号，确认是顾客本人的订单。",
    "validate_order_form": "助手会核对订单号和手机尾号，确认是顾客本人的订单。",
    "action_handle_request": "助手会按售后规则判断能否退货、换货、补偿或保修，并说明理由。",
    "action_handle_answer": "助手会根据顾客的回答（照片、选择）继续处理这个售后请求。",
    "action_bargain": "助手会在补偿上限内和顾客商量补偿金额。",
    "action_handoff": "顾客要求人工，您已经在处理了。",
    "action_rephrase": "助手没读懂这句话，会请顾客换个说法。",
}


def _latest_user(tracker: Any) -> Optional[Any]:
    for event in reversed(tracker.events):
        if getattr(event, "type_name", "") == "user":
            return event
    return None


async def suggest(agent: Any, tracker: Any) -> Dict[str, Any]:
    """{"intent", "confidence", "action", "text", "hint"}; ``text`` is None when there is no draft."""
    from rasa.shared.core.events import ConversationResumed

    latest = _latest_user(tracker)
    result: Dict[str, Any] = {"intent": None, "confidence": None, "action": None, "text": None, "hint": None}
    if latest is None:
        result["hint"] = "顾客还没有说话，暂无建议。"
        return result
    result["intent"] = (latest.intent or {}).get("name")
    result["confidence"] = (latest.intent or {}).get("confidence")
    # the conversation as if no person had taken it: the pause events out, the bot's own turns in
    from rasa.shared.core.events import ActionExecuted, ConversationPaused
    from rasa.shared.core.trackers import DialogueStateTracker

    events = [e for e in tracker.events if not isinstance(e, (ConversationPaused, ConversationResumed))]
    at = len(events) - 1 - events[::-1].index(latest) if latest in events else len(events)
    if at > 0 and not (isinstance(events[at - 1], ActionExecuted) and events[at - 1].action_name == "action_listen"):
        events.insert(at, ActionExecuted("action_listen"))  # the gate logged it without listening first
    copy = DialogueStateTracker.from_events(tracker.sender_id, events, slots=agent.processor.domain.slots)
    try:
        processor = agent.processor
        prediction = processor._predict_next_with_tracker(copy)
        action = processor.domain.action_names_or_texts[prediction.max_confidence_index]
    except Exception as error:  # noqa: BLE001 - no model loaded, or a policy failure: no draft
        logger.warning("console draft: no prediction (%s)", type(error).__name__)
        result["hint"] = "助手现在给不出建议，请直接回复。"
        return result
    result["action"] = action
    if action in processor.domain.responses:
        channel = getattr(latest, "input_channel", None) or "widget"
        message = await agent.nlg.generate(action, copy, channel)
        result["text"] = (message or {}).get("text")
    elif action == "action_listen":
        result["hint"] = "助手会等顾客继续说，暂无要回复的内容。"
    else:
        result["hint"] = ACTION_HINTS.get(action, "助手下一步会执行“%s”，请用右侧的操作完成。" % action)
    if not result["text"] and not result["hint"]:
        result["hint"] = "暂无建议，请直接回复。"
    return result
