"""A conversation lock for several Rasa replicas that cannot race (rasa #9213).

Rasa's ``RedisLockStore`` reads a JSON ticket list, changes it in Python and writes it back:
two replicas doing that at once lose a ticket, and two messages of one conversation are
processed together (the fix, rasa #11256, was reverted in #11428). Here every step is one
atomic Redis operation, and nothing is ever read-modified-written from Python:

- **ticket**: one Lua script takes ``INCR lock:<id>:next`` (numbers in arrival order) and puts
  the ticket in the sorted set ``lock:<id>:queue`` (score: the ticket) and in
  ``lock:<id>:leases`` (score: when its lease lapses);
- **acquire**: one Lua script drops lapsed tickets and answers whether the ticket is now the
  lowest in the queue (first come, first served: replies keep the order of messages);
- **renew**: while a turn runs, the holder pushes its expiry forward (a token check: only an
  existing ticket is renewed), so a long turn keeps its lock and a dead replica's lease lapses;
- **release**: ``ZREM`` of the holder's own ticket only.

Configured in ``endpoints.yml``::

    lock_store:
      type: bot.cluster.lock_store.AtomicRedisLockStore
      url: 127.0.0.1
      port: 6379
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, AsyncGenerator, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, LockStore

logger = logging.getLogger(__name__)

# KEYS: next, queue, leases. ARGV: lease expiry. A numbered place in the queue, with a lease.
_TAKE = """
local ticket = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('ZADD', KEYS[3], ARGV[1], ticket)
redis.call('EXPIRE', KEYS[1], 86400)
return ticket
"""
# KEYS: queue, leases. ARGV: now, ticket. Drop lapsed tickets, then: 1 if ours heads the queue,
# 0 if it waits, -1 if it is gone (our own lease lapsed: we must not act as if we held the lock).
_ACQUIRE = """
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, t in ipairs(lapsed) do
  redis.call('ZREM', KEYS[1], t)
  redis.call('ZREM', KEYS[2], t)
end
if redis.call('ZSCORE', KEYS[1], ARGV[2]) == false then return -1 end
local head = redis.call('ZRANGE', KEYS[1], 0, 0)
if head[1] == ARGV[2] then return 1 end
return 0
"""
# KEYS: leases. Renew only a ticket that still has a lease (XX: never re-add a lapsed one).
_RENEW = "return redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[1], ARGV[2])"


class AtomicRedisLockStore(LockStore):
    """FIFO conversation locks in Redis, safe between replicas; leases expire if a holder dies."""

    def __init__(self, endpoint_config: Any = None, *, host: str = "127.0.0.1", port: int = 6379, db: int = 0,
                 password: Optional[str] = None, key_prefix: str = "shouhou:lock:", lease_seconds: float = 30.0,
                 poll_seconds: float = 0.01, wait_seconds: float = 180.0) -> None:
        import redis.asyncio as aioredis

        kwargs = dict(getattr(endpoint_config, "kwargs", None) or {})
        host = getattr(endpoint_config, "url", None) or host
        self.lease = float(kwargs.get("lease_seconds", lease_seconds))
        self.poll = float(kwargs.get("poll_seconds", poll_seconds))
        self.wait = float(kwargs.get("wait_seconds", wait_seconds))
        self.prefix = str(kwargs.get("key_prefix", key_prefix))
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError

        # a Redis restart is waited out (about 8 s at most). Acquire, renew and release are safe to
        # run again; a ticket taken twice (the reply lost in the restart) leaves an orphan nobody
        # renews, so its lease lapses and the queue moves on
        self.red = aioredis.Redis(host=host, port=int(kwargs.get("port", port)), db=int(kwargs.get("db", db)),
                                  password=kwargs.get("password", password), socket_timeout=10,
                                  socket_connect_timeout=2,
                                  retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), 8),
                                  retry_on_error=[RedisConnectionError, RedisTimeoutError])
        self._take = self.red.register_script(_TAKE)
        self._acquire = self.red.register_script(_ACQUIRE)
        self._renew = self.red.register_script(_RENEW)

    def _keys(self, conversation_id: Text) -> tuple:
        base = f"{self.prefix}{conversation_id}"
        return f"{base}:next", f"{base}:queue", f"{base}:leases"

    async def take_ticket(self, conversation_id: Text) -> int:
        """A place in the conversation's queue, in arrival order, with a lease."""
        return int(await self._take(keys=list(self._keys(conversation_id)), args=[time.time() + self.lease]))

    async def wait_for_turn(self, conversation_id: Text, ticket: int) -> None:
        """Until the ticket heads the queue; LockError if its lease lapsed or the wait is too long."""
        _, queue, leases = self._keys(conversation_id)
        deadline = time.monotonic() + self.wait
        pause = self.poll
        while True:
            state = await self._acquire(keys=[queue, leases], args=[time.time(), str(ticket)])
            if state == 1:
                return
            if state == -1 or time.monotonic() > deadline:
                raise LockError(f"could not acquire the lock of conversation {conversation_id!r}")
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 0.1)  # a long queue polls less often

    async def release(self, conversation_id: Text, ticket: int) -> None:
        """Leave the queue: only the holder's own ticket is removed."""
        _, queue, leases = self._keys(conversation_id)
        async with self.red.pipeline(transaction=True) as pipe:
            await pipe.zrem(queue, str(ticket)).zrem(leases, str(ticket)).execute()

    async def _keep_alive(self, conversation_id: Text, ticket: int) -> None:
        leases = self._keys(conversation_id)[2]
        while True:
            await asyncio.sleep(self.lease / 3)
            await self._renew(keys=[leases], args=[time.time() + self.lease, str(ticket)])

    # wait_seconds: a message may queue behind a turn that waits out a database outage
    # (DATABASE_OUTAGE_WAIT, bot/resilience.py), so the wait is longer than that
    @contextlib.asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: float = 0,
                   wait_time_in_seconds: float = 0) -> AsyncGenerator[TicketLock, None]:
        """Hold the conversation's lock for one turn (Rasa's agent and server call this)."""
        ticket = await self.take_ticket(conversation_id)
        renewer: Optional[asyncio.Task] = None
        try:
            renewer = asyncio.ensure_future(self._keep_alive(conversation_id, ticket))
            await self.wait_for_turn(conversation_id, ticket)
            yield TicketLock(conversation_id)
        finally:
            if renewer is not None:
                renewer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewer
            await self.release(conversation_id, ticket)

    # Rasa's synchronous ticket API is not used with this store; keep it honest rather than racy.
    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:  # pragma: no cover - unused by Rasa 3.6
        raise NotImplementedError("AtomicRedisLockStore has no read-modify-write ticket list")

    def save_lock(self, lock: TicketLock) -> None:  # pragma: no cover
        raise NotImplementedError("AtomicRedisLockStore has no read-modify-write ticket list")

    def delete_lock(self, conversation_id: Text) -> None:  # pragma: no cover
        raise NotImplementedError("AtomicRedisLockStore has no read-modify-write ticket list")
