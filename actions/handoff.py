"""Handing over to a human (R15), and asking to rephrase when the NLU is unsure.

The decisions live in ``bot.handoff`` (triggers, states, what the shopper is told) and the
state in the database (``bot.store.console``); this is the adapter to Rasa. The Rasa server's
gate (``bot.console.gate``) runs this action at once when a trigger fires, and keeps the bot
silent while the conversation is queued or claimed.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Any, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.cases import choice_in
from actions.replies import say
from bot import handoff as h
from bot.store.console import ConsoleRepository

FALLBACKS_BEFORE_HUMAN = h.FALLBACKS_BEFORE_HUMAN


@lru_cache(maxsize=4)
def _console(repo: Any) -> ConsoleRepository:
    return ConsoleRepository(repo.session_factory, clock=runtime.get().clock)


@lru_cache(maxsize=1)
def service_settings() -> h.ServiceSettings:
    return h.load_service()


class ActionHandoff(Action):
    """Queue the conversation for a person with a summary of it, and tell the shopper the truth."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        rt = runtime.get()
        console = _console(rt.repo)
        slots = tracker.current_slot_values()
        summary = h.summarize(tracker.events, slots)
        latest = tracker.latest_message or {}
        trigger = h.trigger_for(
            latest.get("text") or "", (latest.get("intent") or {}).get("name"), h.fallbacks_in_a_row(tracker.events)
        )
        reason = trigger.reason if trigger and not slots.get("order_locked") else summary.reason
        case_id = tracker.get_slot("case_id")
        handoff_id = rt.repo.record_handoff(
            conversation_id=tracker.sender_id,
            case_id=int(case_id) if case_id else None,
            reason=reason,
            summary=summary.text,
        )
        state = console.request(
            tracker.sender_id,
            reason,
            urgent=bool(trigger and trigger.urgent),
            channel=tracker.get_latest_input_channel() or "",
            case_id=int(case_id) if case_id else None,
            handoff_id=handoff_id,
        )
        service = service_settings()
        now = console.now()
        online = console.agents_online(now - timedelta(seconds=service.agent_offline_seconds))
        position = console.position(tracker.sender_id) if state.state == h.QUEUED else 1
        say(dispatcher, tracker, h.handoff_message(now, service, online, position, trigger))
        return [SlotSet("handed_off", True), SlotSet("awaiting", None), ConversationPaused()]


class ActionRephrase(Action):
    """Low confidence: ask to rephrase with suggestions; after two in a row, offer a human."""

    def name(self) -> Text:
        return "action_rephrase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        choice = choice_in(tracker)
        if choice:  # "补发吧" is unclear alone, but it answers the question just asked
            from actions.service import ActionHandleAnswer

            return await ActionHandleAnswer().answer(dispatcher, tracker, domain, choice)
        if h.fallbacks_in_a_row(tracker.events) >= FALLBACKS_BEFORE_HUMAN:
            dispatcher.utter_message(response="utter_offer_human")
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return []
