"""Console live events between replicas through Redis (issue #15), against a real redis-server."""

from __future__ import annotations

import asyncio

from bot.console.hub import Hub


def _console(hub: Hub) -> asyncio.Queue:
    """What an open console tab holds (Hub.stream registers one such queue per tab)."""
    queue: asyncio.Queue = asyncio.Queue()
    hub._queues.add(queue)
    return queue


def test_an_event_published_on_one_replica_reaches_consoles_on_every_replica(redis_port):
    async def main() -> None:
        one, two = (Hub(f"redis://127.0.0.1:{redis_port}/0") for _ in range(2))
        await one.start()
        await two.start()
        await asyncio.wait_for(asyncio.gather(one.listening.wait(), two.listening.wait()), 5)
        on_one, on_two = _console(one), _console(two)
        for n in range(5):
            one.publish({"type": "message", "conversation_id": "web-x", "n": n})
        got_two = [await asyncio.wait_for(on_two.get(), 5) for _ in range(5)]
        got_one = [await asyncio.wait_for(on_one.get(), 5) for _ in range(5)]
        await one.stop()
        await two.stop()
        assert [e["n"] for e in got_two] == list(range(5))
        assert [e["n"] for e in got_one] == list(range(5))  # once, not twice, on the publishing replica
        assert on_one.empty() and on_two.empty()

    asyncio.run(main())


def test_without_redis_events_stay_in_the_process_and_an_unreachable_redis_still_serves_local_consoles():
    async def main() -> None:
        local = Hub(redis_url="")
        await local.start()
        queue = _console(local)
        local.publish({"type": "queue"})
        assert queue.get_nowait() == {"type": "queue"}

        gone = Hub("redis://127.0.0.1:1/0")  # nothing listens there
        await gone.start()
        queue = _console(gone)
        gone.publish({"type": "followups"})
        assert await asyncio.wait_for(queue.get(), 10) == {"type": "followups"}
        await gone.stop()

    asyncio.run(main())
