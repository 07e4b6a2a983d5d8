"""The conversation lock between replicas (issue #15, rasa #9213): atomic, FIFO, leases that lapse."""

from __future__ import annotations

import asyncio
import time

import pytest
from rasa.core.lock_store import LockError

from bot.cluster.lock_store import AtomicRedisLockStore


def _store(port: int, **kwargs) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(port=port, key_prefix=f"t{time.monotonic_ns()}:", **kwargs)


async def test_two_replicas_never_hold_one_conversation_together(redis_port):
    prefix = f"race{time.monotonic_ns()}:"
    replicas = [AtomicRedisLockStore(port=redis_port, key_prefix=prefix) for _ in range(2)]
    holding, served, overlaps = set(), [], []

    async def turn(n: int) -> None:
        await asyncio.sleep(n * 0.01)  # messages 10 ms apart, alternating replicas
        async with replicas[n % 2].lock("shopper-1"):
            if holding:
                overlaps.append(n)
            holding.add(n)
            served.append(n)
            await asyncio.sleep(0.001)
            holding.discard(n)

    await asyncio.gather(*(turn(n) for n in range(100)))
    assert overlaps == [] and sorted(served) == list(range(100))


async def test_turns_are_served_in_the_order_their_tickets_were_taken(redis_port):
    prefix = f"fifo{time.monotonic_ns()}:"
    replicas = [AtomicRedisLockStore(port=redis_port, key_prefix=prefix) for _ in range(2)]
    tickets = [await replicas[n % 2].take_ticket("c") for n in range(50)]  # arrival order
    served = []

    async def turn(n: int) -> None:
        await replicas[n % 2].wait_for_turn("c", tickets[n])
        served.append(n)
        await replicas[n % 2].release("c", tickets[n])

    await asyncio.gather(*(turn(n) for n in reversed(range(50))))  # asked in the opposite order
    assert served == list(range(50))


async def test_other_conversations_do_not_wait(redis_port):
    store = _store(redis_port)
    async with store.lock("slow"):
        started = time.monotonic()
        async with store.lock("other"):
            assert time.monotonic() - started < 0.5


async def test_a_dead_replicas_lease_lapses(redis_port):
    dead = _store(redis_port, lease_seconds=0.3)
    alive = AtomicRedisLockStore(port=redis_port, key_prefix=dead.prefix, lease_seconds=0.3)
    await dead.take_ticket("c")  # took its turn and died: never released, never renewed
    started = time.monotonic()
    async with alive.lock("c"):
        waited = time.monotonic() - started
    assert 0.2 < waited < 2


async def test_a_long_turn_keeps_its_lock(redis_port):
    store = _store(redis_port, lease_seconds=0.3)
    order = []

    async def long_turn():
        async with store.lock("c"):
            order.append("long-start")
            await asyncio.sleep(1.0)  # three leases long: renewed while it runs
            order.append("long-end")

    async def next_turn():
        await asyncio.sleep(0.05)
        async with store.lock("c"):
            order.append("next")

    await asyncio.gather(long_turn(), next_turn())
    assert order == ["long-start", "long-end", "next"]


async def test_waiting_too_long_is_an_error_not_a_double_turn(redis_port):
    store = _store(redis_port, wait_seconds=0.2)
    async with store.lock("c"):
        with pytest.raises(LockError):
            async with store.lock("c"):
                pass
