"""Live updates for the open consoles, as server-sent events (``GET /console/api/events``).

Every console tab holds one stream; ``publish`` puts an event on each (a full queue drops
the event for that tab, which then refreshes on the next one). Events are small and carry
no secrets: ``{"type": "queue"}``, ``{"type": "message", "conversation_id", "sender", ...}``,
``{"type": "typing", "conversation_id", "on"}``, ``{"type": "followups"}``. A comment line
every ``PING_SECONDS`` keeps proxies from closing the stream and counts as the agent's
heartbeat (the console is open); when it stops, the agent goes offline.

Several replicas (issue #15): with ``REDIS_URL`` set, ``publish`` goes through a Redis channel
and every replica hands what it hears to its own streams, so an agent whose console is connected
to one replica sees the queue change and the shopper's messages handled by another. If Redis
cannot be reached, the event still reaches this replica's consoles (the rest catch up on their
next event or reload).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, Optional, Set

from sanic.request import Request

logger = logging.getLogger(__name__)

PING_SECONDS = 15.0
CHANNEL = "shouhou:console:events"


class Hub:
    def __init__(self, redis_url: Optional[str] = None) -> None:
        self._queues: Set[asyncio.Queue] = set()
        self.redis_url = redis_url if redis_url is not None else os.environ.get("REDIS_URL") or None
        self._redis: Any = None
        self._listener: Optional[asyncio.Task] = None
        self._pending: Set[asyncio.Task] = set()
        self.listening = asyncio.Event()

    def __len__(self) -> int:
        return len(self._queues)

    def publish(self, event: Dict[str, Any]) -> None:
        """Send ``event`` to every open console (of every replica, with Redis)."""
        if self._redis is None or self._listener is None or self._listener.done():
            self._fan_out(event)
            return
        task = asyncio.ensure_future(self._publish(event))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish(self, event: Dict[str, Any]) -> None:
        try:
            await self._redis.publish(CHANNEL, json.dumps(event, ensure_ascii=False))
        except Exception as error:  # noqa: BLE001 - Redis away: this replica's consoles still hear it
            logger.warning("console events: Redis publish failed (%s); local consoles only", type(error).__name__)
            self._fan_out(event)

    async def start(self) -> None:
        """Listen to the other replicas (only with REDIS_URL); called when the server starts."""
        if not self.redis_url or self._listener is not None:
            return
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis.from_url(self.redis_url, socket_connect_timeout=2)
        self._listener = asyncio.ensure_future(self._listen())

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        if self._redis is not None:
            await self._redis.close()

    async def _listen(self) -> None:
        pause = 0.5
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                self.listening.set()
                pause = 0.5
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._fan_out(json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis restarting: listen again
                self.listening.clear()
                logger.warning("console events: Redis gone (%s), listening again in %.1f s",
                               type(error).__name__, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 10.0)
            finally:
                try:
                    await pubsub.close()
                except Exception:  # noqa: BLE001
                    pass

    def _fan_out(self, event: Dict[str, Any]) -> None:
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
