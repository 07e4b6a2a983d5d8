"""Limits on what one conversation or one client address may send (issue #11).

A sliding-window counter per key ("conversation:web-…", "client:203.0.113.7"): each allowed
event is remembered for ``window`` seconds and an event over the limit is refused, so a
flooding client is slowed to the limit while everyone else goes on unaffected. Plain Python,
in memory, one lock; bounded (the least recently used keys are forgotten first), so a flood
of new keys cannot grow it without end. With several Rasa processes each keeps its own
counts (README "Scaling out").
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from typing import Callable, Deque, Iterable, Optional, Tuple


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds for each key."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._clock = clock
        self._events: "OrderedDict[str, Deque[float]]" = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one event for ``key`` if it is within the limit; False (nothing counted) if not."""
        return self.allow_all([key])

    def allow_all(self, keys: Iterable[Optional[str]]) -> bool:
        """One event counted under every key, only if every key is within its limit."""
        keys = [k for k in keys if k]
        if self.limit <= 0:
            return True
        now = self._clock()
        with self._lock:
            queues = [self._queue(k, now) for k in keys]
            if any(len(q) >= self.limit for q in queues):
                return False
            for q in queues:
                q.append(now)
            return True

    def would_allow(self, key: Optional[str]) -> bool:
        """Whether one more event for ``key`` is within the limit (nothing counted)."""
        if not key or self.limit <= 0:
            return True
        with self._lock:
            return len(self._queue(key, self._clock())) < self.limit

    def _queue(self, key: str, now: float) -> Deque[float]:
        queue = self._events.get(key)
        if queue is None:
            queue = self._events[key] = deque()
            while len(self._events) > self.max_keys:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        while queue and queue[0] <= now - self.window:
            queue.popleft()
        return queue


class Limits:
    """The channel-side limits of one Rasa process, built from shop.yml ``limits``."""

    def __init__(
        self, settings: Optional[object] = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if settings is None:
            from bot.settings import load_settings

            settings = load_settings().limits
        self.settings = settings
        self._lock = threading.Lock()
        s = settings
        self.messages_conversation = RateLimiter(s.messages_per_minute_conversation, clock=clock)
        self.messages_client = RateLimiter(s.messages_per_minute_client, clock=clock)
        self.uploads_client = RateLimiter(s.uploads_per_minute_client, clock=clock)
        self.ratings_client = RateLimiter(s.uploads_per_minute_client, clock=clock)

    def message(self, conversation: str, client: Optional[str]) -> bool:
        """One shopper message, counted only if both the conversation and the address are within their limits."""
        by_conversation, by_client = f"conversation:{conversation}", f"client:{client}" if client else None
        with self._lock:
            if not (
                self.messages_conversation.would_allow(by_conversation)
                and self.messages_client.would_allow(by_client)
            ):
                return False
            self.messages_conversation.allow(by_conversation)
            self.messages_client.allow_all([by_client])
            return True

    def upload(self, client: Optional[str]) -> bool:
        return self.uploads_client.allow_all([f"client:{client}" if client else None])

    def rating(self, client: Optional[str]) -> bool:
        return self.ratings_client.allow_all([f"client:{client}" if client else None])


def client_address(request: object) -> str:
    """The caller's address as Sanic sees it (``remote_addr`` when a proxy is configured)."""
    return str(getattr(request, "remote_addr", "") or getattr(request, "ip", "") or "unknown")[:64]


TOO_FAST = "您发得有点快，请稍等一会儿再发～我会一条一条认真看的。"
TOO_LONG = "消息太长了（最多 {n} 字），请分几次发送，或者说一下重点，我马上帮您看。"


def refusal(code: str, n: int = 0) -> Tuple[str, str]:
    return code, (TOO_FAST if code == "rate_limited" else TOO_LONG.format(n=n))
