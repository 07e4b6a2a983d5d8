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
- the tracker store is used without the fail-safe wrapper. A turn that fails because the
  database cannot be reached is kept, not dropped: the conversation's lock stays held, the
  widget shopper is told once that the message arrived and will be answered when the system is
  back, and the whole turn is tried again (from the stored state, so nothing is half-written)
  for up to ``DATABASE_OUTAGE_WAIT`` seconds (default 90); later messages of the same
  conversation queue behind it, so the backlog is answered in order (issue #15). A turn that
  still fails, or fails for another reason, is answered with the same apology; the turn is not
  stored, and whatever the channel had collected for it is withdrawn, so what the shopper saw
  matches what was kept. The next turn continues from the stored state.

No stack trace reaches the shopper; the logs say which action or store failed and why (the
exception's type and its message, with personal numbers masked by ``bot.privacy``).
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any, Dict, List, Optional

from bot import text as zh

logger = logging.getLogger(__name__)

APOLOGY = (
    "抱歉，系统暂时出了点问题，刚才这一步没能办好。请稍等片刻再发一次，或者点下面的按钮，请人工客服来帮您。"
)
HUMAN_BUTTON = {"title": "转人工客服", "payload": "/ask_human"}
PLEASE_WAIT = "系统正在恢复，您的消息已经收到了，恢复后会按顺序回复您，不用重发。"
DEFAULT_ACTION_TIMEOUT = 10.0
DEFAULT_OUTAGE_WAIT = 90.0

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


def database_unreachable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the database could not be reached or answered."""
    from sqlalchemy import exc

    kinds = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError, exc.TimeoutError)
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, kinds) or type(error).__name__ in {"OperationalError", "InterfaceError"}:
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def outage_wait() -> float:
    try:
        return max(0.0, float(os.environ.get("DATABASE_OUTAGE_WAIT", DEFAULT_OUTAGE_WAIT)))
    except ValueError:
        return DEFAULT_OUTAGE_WAIT


async def _through_outage(agent: Any, message: Any) -> Optional[List[Dict[str, Any]]]:
    """One turn under the conversation's lock, tried again while the database is unreachable."""
    import asyncio
    import time

    from rasa.core.channels.channel import CollectingOutputChannel

    deadline, pause, told = time.monotonic() + outage_wait(), 0.5, False
    # the lock outlives the wait (Rasa's in-memory lock would let the next message in after 60 s)
    async with agent.lock_store.lock(message.sender_id, lock_lifetime=outage_wait() + 60):
        while True:
            try:
                return await agent.processor.handle_message(message)
            except Exception as error:
                if not database_unreachable(error) or time.monotonic() + pause > deadline:
                    raise
                channel = message.output_channel
                if isinstance(channel, CollectingOutputChannel):
                    channel.messages.clear()  # the retry answers afresh
                elif not told:  # a live channel (the widget): say it once, in the shopper's script
                    told = True
                    logger.warning("database unreachable, turn of %s kept and retried: %s",
                                   message.sender_id, _why(error))
                    script = zh.conversation_script([message.text or ""])
                    with contextlib.suppress(Exception):
                        await channel.send_response(message.sender_id, {"text": zh.in_script(PLEASE_WAIT, script)})
                await asyncio.sleep(pause)
                pause = min(pause * 1.5, 5.0)


def _guard_turns() -> None:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel

    original = Agent.handle_message

    async def handle_message(self: Any, message: Any) -> Optional[List[Dict[str, Any]]]:
        try:
            if not self.is_ready() or outage_wait() <= 0:
                return await original(self, message)
            return await _through_outage(self, message)
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
    # Rasa sets Sanic's response timeout only when its HTTP API is on; otherwise Sanic's 60 s
    # would cut off a turn that waits out a database outage (Sanic reads SANIC_* at app creation)
    os.environ.setdefault("SANIC_RESPONSE_TIMEOUT", str(int(outage_wait() + 120)))
    # Rasa listens with a backlog of 100 connections: behind a balancer that opens one connection
    # per request, 200 shoppers at once overflowed it (refused, 502) in make bench-cluster
    os.environ.setdefault("SANIC_BACKLOG", "1024")
    _no_fail_safe()
    _action_timeout()
    _INSTALLED = True
