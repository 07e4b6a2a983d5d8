"""Handing over to a human (R15), and asking to rephrase when the NLU is unsure."""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.replies import pick, say
from bot.handoff import summarize

FALLBACKS_BEFORE_HUMAN = 2


class ActionHandoff(Action):
    """Record the handoff with a summary of the whole conversation, then tell the shopper."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        summary = summarize(tracker.events, tracker.current_slot_values())
        case_id = tracker.get_slot("case_id")
        runtime.get().repo.record_handoff(
            conversation_id=tracker.sender_id,
            case_id=int(case_id) if case_id else None,
            reason=summary.reason,
            summary=summary.text,
        )
        say(dispatcher, tracker, pick(_HANDOFF))
        return [SlotSet("handed_off", True), SlotSet("awaiting", None)]


class ActionRephrase(Action):
    """Low confidence: ask to rephrase with suggestions; after two in a row, offer a human."""

    def name(self) -> Text:
        return "action_rephrase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if _fallbacks_in_a_row(tracker) >= FALLBACKS_BEFORE_HUMAN:
            dispatcher.utter_message(response="utter_offer_human")
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return []


def _fallbacks_in_a_row(tracker: Tracker) -> int:
    """How many of the shopper's latest messages in a row the NLU could not place."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data", {}).get("intent") or {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


_HANDOFF = (
    "好的，正在为您转接人工客服，我们刚才聊的内容会一并转过去，您不用再重复说明。请稍等片刻～",
    "明白，这就帮您转人工。客服同事能看到完整的对话记录，接入后会直接接着处理，请稍候。",
    "已为您安排人工客服，之前的情况我已经整理好交给同事了，马上会有人来跟进，辛苦您稍等一下。",
)
