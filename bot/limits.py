"""Limits on what one conversation or one client address may send (issue #11).

A sliding-window counter per key ("conversation:web-…", "client:203.0.113.7"): each allowed
event is remembered for ``window`` seconds and an event over the limit is refused, so a
flooding client is slowed to the limit while everyone else goes on unaffected. Plain Python,
in memory, one lock; bounded (the least recently used keys are forgotten first), so a flood
of new keys cannot grow it without end.

Several Rasa replicas (issue #15): with ``REDIS_URL`` set the counts live in Redis, shared by
every replica, so a client whose requests the balancer spreads over two replicas still gets the
limit once, not once per replica. One Lua script checks and counts all keys of an event
atomically (a sorted set per key, scored by time). If Redis cannot answer within a quarter of
a second the process counts in memory for the next few seconds (a limit per replica is better
than refusing shoppers or stalling the event loop), then tries Redis again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import OrderedDict, deque
from typing import Any, Callable, Deque, Iterable, List, Optional, Sequence, Tuple

logger = logging.getLogger(__name__)


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


# KEYS: one sorted set per limited key. ARGV: now (ms), window (ms), a unique member, then one
# limit per key. Nothing is counted unless every key is within its limit.
_SLIDING_WINDOW = """
local now, window, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then return 0 end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
end
return 1
"""


class SharedCounts:
    """Sliding-window counts in Redis, the same for every replica (see the module docstring)."""

    PREFIX = "shouhou:limit:"
    PAUSE = 5.0  # seconds in memory after Redis failed to answer

    def __init__(self, url: str, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        import redis

        # short timeouts and no retries: a shopper's message must not wait on a limit
        self._redis = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
        self._script = self._redis.register_script(_SLIDING_WINDOW)
        self.window = window
        self._clock = clock
        self._down_until = 0.0

    def allow(self, limited: Sequence[Tuple[str, int]]) -> Optional[bool]:
        """True/False from Redis for one event under every (key, limit); None if Redis is not answering."""
        limited = [(k, n) for k, n in limited if k and n > 0]
        if not limited:
            return True
        if self._clock() < self._down_until:
            return None
        try:
            allowed = self._script(
                keys=[self.PREFIX + k for k, _ in limited],
                args=[int(time.time() * 1000), int(self.window * 1000), uuid.uuid4().hex,
                      *[n for _, n in limited]],
            )
        except Exception as error:  # redis.RedisError, OSError: count in memory for a while
            self._down_until = self._clock() + self.PAUSE
            logger.warning("Rate limits counted in memory for %.0f s: Redis did not answer (%s).",
                           self.PAUSE, type(error).__name__)
            return None
        return bool(allowed)


class Limits:
    """The channel-side limits of one Rasa process, built from shop.yml ``limits``.

    Counted in Redis, shared by all replicas, when ``redis_url`` (or ``REDIS_URL``) is set;
    in memory otherwise, and while Redis does not answer."""

    def __init__(
        self,
        settings: Optional[object] = None,
        clock: Callable[[], float] = time.monotonic,
        redis_url: Optional[str] = None,
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
        url = redis_url if redis_url is not None else os.environ.get("REDIS_URL") or None
        self.shared: Optional[SharedCounts] = SharedCounts(url, clock=clock) if url else None

    def _shared(self, limited: List[Tuple[Optional[str], Any]]) -> Optional[bool]:
        if self.shared is None:
            return None
        return self.shared.allow([(k, int(n)) for k, n in limited if k])

    def message(self, conversation: str, client: Optional[str]) -> bool:
        """One shopper message, counted only if both the conversation and the address are within their limits."""
        by_conversation, by_client = f"conversation:{conversation}", f"client:{client}" if client else None
        shared = self._shared([
            (by_conversation, self.messages_conversation.limit),
            (by_client, self.messages_client.limit),
        ])
        if shared is not None:
            return shared
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
        key = f"upload:{client}" if client else None
        shared = self._shared([(key, self.uploads_client.limit)])
        return shared if shared is not None else self.uploads_client.allow_all([key])

    def rating(self, client: Optional[str]) -> bool:
        key = f"rating:{client}" if client else None
        shared = self._shared([(key, self.ratings_client.limit)])
        return shared if shared is not None else self.ratings_client.allow_all([key])


def client_address(request: object) -> str:
    """The caller's address as Sanic sees it (``remote_addr`` when a proxy is configured)."""
    return str(getattr(request, "remote_addr", "") or getattr(request, "ip", "") or "unknown")[:64]


TOO_FAST = "您发得有点快，请稍等一会儿再发～我会一条一条认真看的。"
TOO_LONG = "消息太长了（最多 {n} 字），请分几次发送，或者说一下重点，我马上帮您看。"


def refusal(code: str, n: int = 0) -> Tuple[str, str]:
    return code, (TOO_FAST if code == "rate_limited" else TOO_LONG.format(n=n))
