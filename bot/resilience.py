"""Honest failures on the Rasa side: one apology, the offer of a human, nothing half-written.

Rasa 3.6, left alone, fails quietly. An action that raises, an action server that is down or
answers with an error, or one that does not answer within five minutes: Rasa logs the
exception, drops the action's events and goes on predicting, so the shopper usually gets
nothing at all. A tracker store whose database is down is hidden by ``FailSafeTrackerStore``,
which keeps the conversation in memory until the next restart loses it.

``install()`` changes three places, each once for every action and every channel:

- every action run by the processor is guarded: if it fails (any error but Rasa's own
  "rejected" signal that forms use), its events are dropped, the shopper gets one apology in
  their script with a "转人工客服" button, and the bot listens again. Forms stay active, so the
  next message picks up where the conversation was;
- an action call times out after ``ACTION_TIMEOUT`` seconds (default 10) instead of 300;
- the tracker store is used without the fail-safe wrapper, and a turn that fails as a whole
  (database down or slow) is answered with the same apology; the turn is not stored, and
  whatever the channel had collected for it is withdrawn, so what the shopper saw matches
  what was kept. The next turn after the database is back continues from the stored state.

No stack trace reaches the shopper; the logs say which action or store failed and why (the
exception's type and its message, with personal numbers masked by ``bot.privacy``).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Dict, List, Optional

from bot import text as zh

logger = logging.getLogger(__name__)

APOLOGY = (
    "抱歉，系统暂时出了点问题，刚才这一步没能办好。请稍等片刻再发一次，或者点下面的按钮，请人工客服来帮您。"
)
HUMAN_BUTTON = {"title": "转人工客服", "payload": "/ask_human"}
DEFAULT_ACTION_TIMEOUT = 10.0

_INSTALLED = False


def apology(user_texts: List[str]) -> Dict[str, Any]:
    """The apology as a bot message, in the script of the shopper's latest Chinese message."""
    script = zh.conversation_script([t for t in user_texts if isinstance(t, str)])
    return {
        "text": zh.in_script(APOLOGY, script),
        "buttons": [{**HUMAN_BUTTON, "title": zh.in_script(HUMAN_BUTTON["title"], script)}],
    }


def _user_texts(tracker: Any) -> List[str]:
    return [e.text for e in getattr(tracker, "events", []) if getattr(e, "type_name", "") == "user"][-5:]


def _why(error: BaseException) -> str:
    from bot.privacy import mask_personal

    return f"{type(error).__name__}: {mask_personal(str(error))[:300]}"


class _Guarded:
    """An action whose failure becomes an apology (see the module docstring)."""

    def __init__(self, action: Any) -> None:
        self._action = action

    def __getattr__(self, name: str) -> Any:
        return getattr(self._action, name)

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Any]:
        from rasa.core.actions.action import ActionExecutionRejection
        from rasa.shared.core.events import BotUttered, FollowupAction

        try:
            return await self._action.run(output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception as error:
            logger.error("action %s failed for %s: %s", self._action.name(), tracker.sender_id, _why(error))
            message = apology(_user_texts(tracker))
            return [
                BotUttered(message["text"], data={"buttons": message["buttons"]}, metadata={"apology": True}),
                FollowupAction("action_listen"),
            ]


def _guard_actions() -> None:
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor._run_action

    async def _run_action(self: Any, action: Any, *args: Any, **kwargs: Any) -> bool:
        return await original(self, _Guarded(action), *args, **kwargs)

    MessageProcessor._run_action = _run_action  # type: ignore[assignment]


def _guard_turns() -> None:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel

    original = Agent.handle_message

    async def handle_message(self: Any, message: Any) -> Optional[List[Dict[str, Any]]]:
        try:
            return await original(self, message)
        except Exception as error:
            logger.error("turn of %s failed, nothing stored: %s", message.sender_id, _why(error))
            channel = message.output_channel
            if isinstance(channel, CollectingOutputChannel):
                channel.messages.clear()  # not stored, so not shown
            reply = apology([message.text or ""])
            try:
                await channel.send_response(message.sender_id, reply)
            except Exception as send_error:  # the channel itself is gone: nothing more to do
                logger.error("could not send the apology to %s: %s", message.sender_id, _why(send_error))
            return channel.messages if isinstance(channel, CollectingOutputChannel) else None

    Agent.handle_message = handle_message  # type: ignore[assignment]


def _no_fail_safe() -> None:
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import InMemoryTrackerStore

    def _create_tracker_store(store: Any, domain: Any) -> Any:
        if store is None:
            return InMemoryTrackerStore(domain)
        store.domain = domain
        return store

    Agent._create_tracker_store = staticmethod(_create_tracker_store)  # type: ignore[assignment]


def _action_timeout() -> None:
    import rasa.core.actions.action as rasa_action

    rasa_action.DEFAULT_REQUEST_TIMEOUT = float(os.environ.get("ACTION_TIMEOUT") or DEFAULT_ACTION_TIMEOUT)


def install() -> None:
    """Install the three guards (idempotent); ``python -m bot.serve`` calls it."""
    global _INSTALLED
    if _INSTALLED:
        return
    _guard_actions()
    _guard_turns()
    _no_fail_safe()
    _action_timeout()
    _INSTALLED = True
