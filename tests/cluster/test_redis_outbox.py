"""The outbox in Redis keeps the in-process outbox's contract across replicas (issue #15)."""

from __future__ import annotations

import threading
import time

from bot.channels.redis_outbox import RedisOutbox


def _box(port: int, **kwargs) -> RedisOutbox:
    return RedisOutbox(f"redis://127.0.0.1:{port}/0", prefix=f"t{time.monotonic_ns()}:", **kwargs)


def test_numbered_replayable_and_shared_by_two_replicas(redis_port):
    one = _box(redis_port)
    two = RedisOutbox(f"redis://127.0.0.1:{redis_port}/0", prefix=one.prefix)  # another replica
    one.append("a", "user", {"text": "你好"})
    two.append("a", "bot", {"text": "您好～"})
    one.append("a", "agent", {"text": "我是客服小王", "agent": "小王"})
    replay = two.since("a", 1)
    assert [(e.seq, e.sender) for e in replay.entries] == [(2, "bot"), (3, "agent")]
    assert replay.last_seq == 3 and not replay.truncated and replay.epoch == one.open("a")
    assert one.since("nobody").entries == [] and "nobody" not in one


def test_a_resend_is_stored_once_whichever_replica_gets_it(redis_port):
    one = _box(redis_port)
    two = RedisOutbox(f"redis://127.0.0.1:{redis_port}/0", prefix=one.prefix)
    first, created = one.append("a", "user", {"text": "退货"}, cid="c1")
    again, created_again = two.append("a", "user", {"text": "退货"}, cid="c1")
    assert created and not created_again and again == first and two.last_seq("a") == 1
    assert first.to_dict()["cid"] == "c1" and "cid" not in one.append("a", "bot", {"text": "好"})[0].to_dict()


def test_concurrent_appends_get_distinct_consecutive_numbers(redis_port):
    box = _box(redis_port)
    boxes = [RedisOutbox(f"redis://127.0.0.1:{redis_port}/0", prefix=box.prefix) for _ in range(4)]

    def write(b: RedisOutbox) -> None:
        for n in range(50):
            b.append("busy", "bot", {"text": str(n)})

    threads = [threading.Thread(target=write, args=(b,)) for b in boxes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e.seq for e in box.since("busy").entries] == list(range(1, 201))


def test_bounded_by_count_and_bytes_and_says_it_was_truncated(redis_port):
    box = _box(redis_port, max_entries=3, max_bytes=10_000)
    for n in range(5):
        box.append("a", "bot", {"text": f"第{n}条"}, cid=f"c{n}")
    replay = box.since("a", 0)
    assert [e.seq for e in replay.entries] == [3, 4, 5] and replay.truncated
    assert not box.has_cid("a", "c0") and box.has_cid("a", "c4")
    small = _box(redis_port, max_bytes=60)
    for _ in range(4):
        small.append("b", "bot", {"text": "一二三四五六七八九十"})
    assert len(small.since("b").entries) < 4 and small.since("b").entries[-1].seq == 4


def test_old_entries_age_out(redis_port):
    now = [1000.0]
    box = _box(redis_port, max_age=60, clock=lambda: now[0])
    box.append("a", "bot", {"text": "old"})
    now[0] += 61
    box.append("a", "bot", {"text": "new"})
    assert [e.message["text"] for e in box.since("a").entries] == ["new"]
