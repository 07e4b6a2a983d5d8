"""Runs the R14 follow-up runner inside the Rasa server, beside the widget channel.

The widget channel owns the outbox, so promises reach the shopper's conversation through it
(an offline shopper sees them on return). ``FOLLOWUP_INTERVAL_SECONDS`` sets how often due
promises are looked for (default 30; 0 switches the runner off, e.g. for a second replica).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from sanic import Sanic

from bot import text as zh
from bot.followups import FollowUpRunner


async def _script(app: Sanic, conversation: str) -> str:
    """The shopper's script (Traditional or Simplified) from their latest messages, if Rasa knows them."""
    try:
        tracker = await app.ctx.agent.tracker_store.retrieve(conversation)
    except Exception:  # noqa: BLE001 - no tracker store reachable: Simplified
        tracker = None
    texts = [e.text or "" for e in tracker.events if getattr(e, "type_name", "") == "user"] if tracker else []
    return zh.conversation_script(texts[-5:])


def attach(app: Sanic, channel: Any) -> None:
    """Start the runner when the server starts and stop it when the server stops."""
    interval = float(os.environ.get("FOLLOWUP_INTERVAL_SECONDS", "30"))
    if interval <= 0:
        return

    async def deliver(conversation: str, text: str) -> Any:
        text = zh.in_script(text, await _script(app, conversation))
        return await channel.deliver(conversation, "bot", {"text": text})

    async def start(app: Sanic, _loop: Any = None) -> None:
        runner = FollowUpRunner(channel.repository(), deliver, interval=interval)
        app.ctx.follow_up_task = asyncio.ensure_future(runner.run())

    async def stop(app: Sanic, _loop: Any = None) -> None:
        task = getattr(app.ctx, "follow_up_task", None)
        if task is not None:
            task.cancel()

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")
