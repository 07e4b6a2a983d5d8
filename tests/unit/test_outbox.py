"""The widget's outbox: ordered, replayable, deduplicated, bounded, safe from threads and tasks."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.channels.outbox import Outbox


def test_sequence_numbers_are_per_conversation_and_start_at_one():
    box = Outbox()
    a1, _ = box.append("a", "user", {"text": "你好"})
    a2, _ = box.append("a", "bot", {"text": "您好"})
    b1, _ = box.append("b", "user", {"text": "在吗"})
    assert (a1.seq, a2.seq, b1.seq) == (1, 2, 1)
    assert box.last_seq("a") == 2 and box.last_seq("b") == 1 and box.last_seq("nobody") == 0


def test_replay_returns_what_the_client_has_not_seen_in_order():
    box = Outbox()
    for n in range(5):
        box.append("a", "bot", {"text": f"第{n + 1}条"})
    replay = box.since("a", 2)
    assert [e.seq for e in replay.entries] == [3, 4, 5]
    assert replay.last_seq == 5 and not replay.truncated
    assert box.since("a", 5).entries == []
    assert [e.seq for e in box.since("a", 0).entries] == [1, 2, 3, 4, 5]


def test_unknown_conversation_replays_nothing_and_is_not_created():
    box = Outbox()
    replay = box.since("nobody", 0)
    assert replay.entries == [] and replay.last_seq == 0 and not replay.truncated
    assert "nobody" not in box


def test_a_resent_client_message_is_stored_once():
    box = Outbox()
    first, created = box.append("a", "user", {"text": "退货"}, cid="c1")
    again, created_again = box.append("a", "user", {"text": "退货"}, cid="c1")
    assert created and not created_again
    assert again == first and box.last_seq("a") == 1


def test_entries_serialise_for_the_widget():
    box = Outbox(clock=lambda: 1700000000.5)
    entry, _ = box.append("a", "user", {"text": "<b>hi</b>"}, cid="c9")
    assert entry.to_dict() == {
        "seq": 1,
        "sender": "user",
        "message": {"text": "<b>hi</b>"},
        "at": 1700000000.5,
        "epoch": box.open("a"),
        "cid": "c9",
    }
    bot, _ = box.append("a", "bot", {"text": "ok"})
    assert "cid" not in bot.to_dict()


def test_stored_message_is_a_copy():
    box = Outbox()
    message = {"text": "原文"}
    box.append("a", "bot", message)
    message["text"] = "改了"
    assert box.since("a").entries[0].message == {"text": "原文"}


def test_old_entries_are_dropped_and_a_late_client_is_told():
    box = Outbox(max_entries=3)
    for n in range(1, 6):
        box.append("a", "user", {"text": str(n)}, cid=f"c{n}")
    replay = box.since("a", 0)
    assert [e.seq for e in replay.entries] == [3, 4, 5] and replay.truncated
    assert not box.since("a", 2).truncated
    # a dropped message's client id no longer deduplicates: it is a new message now
    assert box.append("a", "user", {"text": "1"}, cid="c1")[1]


def test_least_recently_active_conversation_is_forgotten_first():
    box = Outbox(max_conversations=2)
    box.append("a", "user", {"text": "1"})
    box.append("b", "user", {"text": "1"})
    box.append("a", "bot", {"text": "2"})  # a is now the most recent
    box.append("c", "user", {"text": "1"})
    assert "a" in box and "c" in box and "b" not in box and len(box) == 2


@pytest.mark.parametrize("kwargs", [{"max_entries": 0}, {"max_conversations": 0}])
def test_bounds_must_be_positive(kwargs):
    with pytest.raises(ValueError):
        Outbox(**kwargs)


def test_unknown_sender_is_refused():
    with pytest.raises(ValueError):
        Outbox().append("a", "hacker", {"text": "x"})


def test_every_log_has_its_own_epoch():
    one, other = Outbox(), Outbox()
    assert one.open("a") == one.open("a") != other.open("a")
    assert one.open("a") != one.open("b")


def test_a_client_with_another_epoch_gets_everything():
    box = Outbox()
    epoch = box.open("a")
    for n in range(3):
        box.append("a", "bot", {"text": str(n)})
    assert [e.seq for e in box.since("a", 2, epoch).entries] == [3]
    assert [e.seq for e in box.since("a", 2, "from-before-a-restart").entries] == [1, 2, 3]
    assert box.since("a", 2, epoch).epoch == epoch


def test_a_forgotten_conversation_starts_a_new_log_with_a_new_epoch():
    box = Outbox(max_conversations=1)
    old = box.append("a", "user", {"text": "1"})[0].epoch
    box.append("b", "user", {"text": "1"})  # forgets a
    again = box.append("a", "user", {"text": "again"})[0]
    assert again.seq == 1 and again.epoch != old


def test_open_starts_an_empty_log():
    box = Outbox()
    assert box.since("a").epoch == "" and "a" not in box
    epoch = box.open("a")
    assert "a" in box and box.since("a").epoch == epoch and box.last_seq("a") == 0


def test_concurrent_threads_get_distinct_gapless_numbers():
    box = Outbox(max_entries=10_000)
    seqs: list = []
    lock = threading.Lock()

    def producer(name: str) -> None:
        for n in range(500):
            entry, _ = box.append("a", "bot", {"text": f"{name}{n}"})
            with lock:
                seqs.append(entry.seq)

    threads = [threading.Thread(target=producer, args=(str(t),)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seqs) == list(range(1, 4001))
    assert [e.seq for e in box.since("a", 0).entries] == list(range(1, 4001))


async def test_concurrent_tasks_keep_each_producers_order():
    box = Outbox()

    async def producer(name: str) -> None:
        for n in range(50):
            box.append("a", "bot", {"text": f"{name}-{n}"})
            await asyncio.sleep(0)

    await asyncio.gather(producer("bot"), producer("agent"))
    texts = [e.message["text"] for e in box.since("a", 0).entries]
    assert [t for t in texts if t.startswith("bot")] == [f"bot-{n}" for n in range(50)]
    assert [t for t in texts if t.startswith("agent")] == [f"agent-{n}" for n in range(50)]
