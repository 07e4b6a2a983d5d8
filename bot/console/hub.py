"""Live updates for the open consoles, as server-sent events (``GET /console/api/events``).

Every console tab holds one stream; ``publish`` puts an event on each (a full queue drops
the event for that tab, which then refreshes on the next one). Events are small and carry
no secrets: ``{"type": "queue"}``, ``{"type": "message", "conversation_id", "sender", ...}``,
``{"type": "typing", "conversation_id", "on"}``, ``{"type": "followups"}``. A comment line
every ``PING_SECONDS`` keeps proxies from closing the stream and counts as the agent's
heartbeat (the console is open); when it stops, the agent goes offline.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable, Dict, Set

from sanic.request import Request

PING_SECONDS = 15.0


class Hub:
    def __init__(self) -> None:
        self._queues: Set[asyncio.Queue] = set()

    def __len__(self) -> int:
        return len(self._queues)

    def publish(self, event: Dict[str, Any]) -> None:
        for queue in list(self._queues):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                pass

    async def stream(self, request: Request, alive: Callable[[], Awaitable[bool]]) -> None:
        """Send events to this request until the client goes away or ``alive()`` says the session ended."""
        response = await request.respond(
            content_type="text/event-stream; charset=utf-8",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        queue: asyncio.Queue = asyncio.Queue(maxsize=200)
        self._queues.add(queue)
        try:
            await response.send("retry: 3000\n\n")
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), PING_SECONDS)
                except asyncio.TimeoutError:
                    if not await alive():
                        break
                    await response.send(": ping\n\n")
                    continue
                await response.send(f"data: {json.dumps(event, ensure_ascii=False)}\n\n")
        finally:
            self._queues.discard(queue)
        await response.eof()
