"""The handoff gate in the Rasa server: while a person has the conversation, the bot is silent.

Installed by the console channel (``ConsoleInput``) into Rasa's ``MessageProcessor``; it runs
inside Rasa's per-conversation lock, for every channel (widget, REST, shell):

- **queued or claimed** (read from the database, the one truth): the shopper's message is
  logged to the tracker (NLU runs, nothing is predicted), the tracker is kept paused with
  ``ConversationPaused``, and the agents' console is told. No bot reply, no typing indicator.
  A shopper who writes while nobody is online has left a message: it becomes a follow-up due
  when someone will be there (R14), and the shopper is told when.
- **bot**: the message is parsed; if a trigger fires (``bot.handoff.trigger_for``: a person
  asked for in any words, threats or abuse, two misunderstandings in a row) the action server's
  ``action_handoff`` runs at once; otherwise Rasa predicts as usual.
- **hand back** (``resume``): ``ConversationResumed`` plus ``action_listen``, so the next
  message is answered and what was said to the agent is not answered again.

Rasa's own pause is not enough alone: a ``/restart`` un-pauses it, and it tells no-one.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, Awaitable, Callable, Dict, List, Optional

from bot import handoff as h
from bot.store.console import ConsoleRepository

logger = logging.getLogger(__name__)

HANDOFF_ACTION = "action_handoff"
LEFT_MESSAGE_WITHIN = timedelta(hours=1)  # in service hours with nobody online

Notify = Callable[[Dict[str, Any]], None]


class Gate:
    def __init__(
        self,
        console: ConsoleRepository,
        add_follow_up: Callable[..., int],
        service: h.ServiceSettings,
        notify: Notify,
    ) -> None:
        self.console = console
        self.add_follow_up = add_follow_up
        self.service = service
        self.notify = notify

    async def in_human_hands(self, conversation_id: str) -> bool:
        state = await asyncio.to_thread(self.console.state, conversation_id)
        return state.state in h.HUMAN_STATES

    async def handle(self, processor: Any, message: Any, original: Callable[..., Awaitable[Any]]) -> Any:
        from rasa.core.channels.channel import CollectingOutputChannel

        conversation = message.sender_id
        state = await asyncio.to_thread(self.console.state, conversation)
        if state.state in h.HUMAN_STATES:
            await self._silent(processor, message, state)
        else:
            await self._as_bot(processor, message)
        if isinstance(message.output_channel, CollectingOutputChannel):
            return message.output_channel.messages
        return None

    async def _silent(self, processor: Any, message: Any, state: Any) -> None:
        from rasa.shared.core.events import ConversationPaused

        tracker = await processor.log_message(message, should_save_tracker=False)
        if not tracker.is_paused():
            tracker.update(ConversationPaused())
        await processor.save_tracker(tracker)
        text = _shown_text(message)
        self.notify({"type": "message", "conversation_id": state.conversation_id, "sender": "user", "text": text})
        if state.state == h.QUEUED:
            await self._maybe_message_left(message, state, text)

    async def _maybe_message_left(self, message: Any, state: Any, text: str) -> None:
        now = self.console.now()
        since = now - timedelta(seconds=self.service.agent_offline_seconds)
        online = await asyncio.to_thread(self.console.agents_online, since)
        open_now = h.in_service_hours(now, self.service)
        if (online and open_now) or not await asyncio.to_thread(self.console.mark_message_left, state.conversation_id):
            return
        due = h.next_opening(now, self.service) if not open_now else now + LEFT_MESSAGE_WITHIN
        await asyncio.to_thread(
            self.add_follow_up, state.case_id, state.conversation_id, f"回复顾客留言：{text[:200]}", due
        )
        receipt = h.message_left_reply(due, now, self.service)
        await asyncio.to_thread(self.console.add_message, state.conversation_id, "system", "", receipt)
        await message.output_channel.send_text_message(state.conversation_id, receipt)
        self.notify({"type": "followups"})

    async def _as_bot(self, processor: Any, message: Any) -> None:
        tracker = await processor.log_message(message, should_save_tracker=False)
        latest = tracker.latest_message
        intent = (latest.intent or {}).get("name") if latest else None
        events = [e.as_dict() for e in tracker.events]
        trigger = h.trigger_for(latest.text if latest else "", intent, h.fallbacks_in_a_row(events))
        if trigger and intent != "restart":
            await self._run_handoff(processor, message, tracker)
        else:
            tracker = await processor.run_action_extract_slots(message.output_channel, tracker)
            await processor._run_prediction_loop(message.output_channel, tracker)
        await processor.run_anonymization_pipeline(tracker)
        await processor.save_tracker(tracker)
        if tracker.is_paused():
            self.notify({"type": "queue"})

    @staticmethod
    async def _run_handoff(processor: Any, message: Any, tracker: Any) -> None:
        from rasa.core.actions.action import action_for_name_or_text
        from rasa.core.policies.policy import PolicyPrediction
        from rasa.shared.core.events import ActiveLoop

        action = action_for_name_or_text(HANDOFF_ACTION, processor.domain, processor.action_endpoint)
        prediction = PolicyPrediction.for_action_name(processor.domain, HANDOFF_ACTION)
        await processor._run_action(action, tracker, message.output_channel, processor.nlg, prediction)
        if tracker.active_loop_name:  # a form (asking for the order) does not resume under the agent
            tracker.update(ActiveLoop(None))


async def resume(agent: Any, conversation_id: str) -> None:
    """Give the conversation back to the bot in Rasa's tracker (the database already says so)."""
    from rasa.shared.core.events import ActionExecuted, ConversationResumed, SlotSet

    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.tracker_store.get_or_create_tracker(conversation_id)
        tracker.update(ConversationResumed())
        tracker.update(SlotSet("handed_off", False))
        tracker.update(ActionExecuted("action_listen"))
        await agent.tracker_store.save(tracker)


async def pause(agent: Any, conversation_id: str) -> None:
    """Pause Rasa's tracker too (a conversation queued by the console, not by the bot)."""
    from rasa.shared.core.events import ConversationPaused

    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.tracker_store.get_or_create_tracker(conversation_id)
        if not tracker.is_paused():
            tracker.update(ConversationPaused())
            await agent.tracker_store.save(tracker)


def _shown_text(message: Any) -> str:
    metadata = message.metadata or {}
    if metadata.get("photo"):
        return "[照片] " + str(metadata["photo"].get("url", ""))
    return str(metadata.get("display") or message.text or "")


_GATE: Optional[Gate] = None
_ORIGINAL: Optional[Callable[..., Awaitable[Any]]] = None


def install(gate: Gate) -> None:
    """Route every ``MessageProcessor.handle_message`` through ``gate`` (idempotent)."""
    global _GATE, _ORIGINAL
    from rasa.core.processor import MessageProcessor

    _GATE = gate
    if _ORIGINAL is not None:
        return
    _ORIGINAL = MessageProcessor.handle_message

    async def handle_message(self: Any, message: Any) -> Optional[List[Dict[str, Any]]]:
        if _GATE is None or self.model_metadata.training_type.name == "NLU":
            return await _ORIGINAL(self, message)
        return await _GATE.handle(self, message, _ORIGINAL)

    MessageProcessor.handle_message = handle_message  # type: ignore[assignment]
