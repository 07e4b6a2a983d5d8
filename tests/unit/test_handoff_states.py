"""The handoff state machine (bot.handoff.TRANSITIONS) in the database, the claim race, and the
triggers and wording the shopper is told (issue #12)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import sessionmaker

from bot import handoff as h
from bot.store.console import ConsoleRepository
from tests.conftest import NOW

SERVICE = h.ServiceSettings()


@pytest.fixture
def console(session_factory: sessionmaker) -> ConsoleRepository:
    return ConsoleRepository(session_factory, clock=lambda: NOW)


def test_a_conversation_goes_bot_queued_claimed_bot(console: ConsoleRepository) -> None:
    assert console.state("c1").state == h.BOT
    queued = console.request("c1", "顾客要求人工", channel="widget")
    assert (queued.state, queued.reason, queued.queued_at) == (h.QUEUED, "顾客要求人工", NOW)
    claimed = console.claim("c1", "alice")
    assert (claimed.state, claimed.agent, claimed.last_agent) == (h.CLAIMED, "alice", "alice")
    with pytest.raises(h.TransitionError):
        console.release("c1", agent="bob")  # not bob's conversation
    back = console.release("c1", agent="alice")
    assert (back.state, back.agent) == (h.BOT, None)
    assert console.request("c1", "again").state == h.QUEUED  # a second handoff later is allowed


def test_moves_outside_the_table_are_refused(console: ConsoleRepository) -> None:
    with pytest.raises(h.TransitionError):
        console.claim("never-queued", "alice")  # bot -> claimed
    console.request("c2", "r")
    console.transition("c2", h.CLOSED)
    with pytest.raises(h.TransitionError):
        console.transition("c2", h.CLAIMED, agent="alice")  # closed -> claimed
    assert h.check(h.QUEUED, h.CLAIMED) == "claim"
    with pytest.raises(h.TransitionError):
        h.check(h.BOT, h.CLAIMED)


def test_a_second_request_keeps_the_place_but_raises_urgency(console: ConsoleRepository) -> None:
    first = console.request("c3", "顾客要求人工")
    again = console.request("c3", "顾客要投诉或要求平台介入", urgent=True)
    assert again.state == h.QUEUED and again.urgent and again.reason == first.reason


def test_queue_is_urgent_first_then_oldest(session_factory: sessionmaker) -> None:
    now = [NOW]
    console = ConsoleRepository(session_factory, clock=lambda: now[0])
    for cid, urgent in [("old", False), ("newer", False), ("angry", True)]:
        console.request(cid, "r", urgent=urgent)
        now[0] += timedelta(minutes=1)
    assert [x.conversation_id for x in console.handoffs(h.QUEUED)] == ["angry", "old", "newer"]
    assert console.position("old") == 2
    assert console.handoffs(h.QUEUED)[1].waiting_seconds(now[0]) == 180


def test_twenty_concurrent_claims_one_wins(session_factory: sessionmaker) -> None:
    console = ConsoleRepository(session_factory)
    console.request("race", "顾客要求人工")
    barrier = threading.Barrier(20)
    results: dict = {}

    def claim(n: int) -> None:
        barrier.wait()
        try:
            results[n] = console.claim("race", f"agent{n}").agent
        except h.TransitionError as error:
            results[n] = error

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [v for v in results.values() if isinstance(v, str)]
    assert len(results) == 20 and len(winners) == 1
    assert console.state("race").agent == winners[0]


def test_offline_agents_conversations_return_to_the_queue(session_factory: sessionmaker) -> None:
    now = [NOW]
    console = ConsoleRepository(session_factory, clock=lambda: now[0])
    console.add_user("alice", "agent", "hash")
    console.heartbeat("alice")
    console.request("c4", "r")
    console.claim("c4", "alice")
    assert console.requeue_from_offline(now[0] - timedelta(seconds=90)) == []
    now[0] += timedelta(minutes=5)
    moved = console.requeue_from_offline(now[0] - timedelta(seconds=90))
    assert [(x.conversation_id, x.state, x.agent) for x in moved] == [("c4", h.QUEUED, None)]
    assert "alice" in console.messages("c4")[-1].text


@pytest.mark.parametrize(
    "text, reason, urgent",
    [
        ("转人工", "顾客要求人工", False),
        ("我不想跟机器人说了，叫你们店长来", "顾客要求人工", False),
        ("有没有真人啊", "顾客要求人工", False),
        ("再不处理我就打12315", "顾客要投诉或要求平台介入", True),
        ("我要申请平台介入", "顾客要投诉或要求平台介入", True),
        ("去消协告你们", "顾客要投诉或要求平台介入", True),
        ("你们就是骗子", "顾客情绪激动", True),
        ("到底发不发货！！！", "顾客情绪激动", True),
    ],
)
def test_triggers(text: str, reason: str, urgent: bool) -> None:
    assert h.trigger_for(text) == h.Trigger(reason, urgent)


@pytest.mark.parametrize("text", ["我要退货", "衣服有色差", "快递到哪了", "好的谢谢", "怎么申请退款"])
def test_ordinary_messages_keep_the_bot(text: str) -> None:
    assert h.trigger_for(text, intent="request_return") is None


def test_two_misunderstandings_in_a_row() -> None:
    fallback = {"event": "user", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    other = {"event": "user", "parse_data": {"intent": {"name": "greet"}}}
    assert h.fallbacks_in_a_row([other, fallback]) == 1
    assert h.trigger_for("嗯嗯啊", "nlu_fallback", h.fallbacks_in_a_row([other, fallback])) is None
    events = [fallback, {"event": "bot"}, fallback]
    assert h.trigger_for("嗯嗯啊", "nlu_fallback", h.fallbacks_in_a_row(events)).reason == "助手连续两次未能理解"


def test_the_shopper_is_told_the_truth() -> None:
    day = datetime(2026, 6, 1, 4, 0)  # 12:00 in Shanghai
    night = datetime(2026, 6, 1, 15, 0)  # 23:00 in Shanghai
    queued = h.handoff_message(day, SERVICE, agents_online=1, position=3)
    assert "前面还有 2 位" in queued and "9 分钟" in queued
    nobody = h.handoff_message(day, SERVICE, agents_online=0, position=1)
    assert "没有人工客服在线" in nobody and "留言" in nobody and "马上" not in nobody
    closed = h.handoff_message(night, SERVICE, agents_online=1, position=1)
    assert "非服务时间" in closed and "明天 09:00" in closed
    assert h.next_opening(night, SERVICE) == datetime(2026, 6, 2, 1, 0)  # 09:00 Shanghai in UTC
    assert h.next_opening(day, SERVICE) == day


def test_service_settings_come_from_shop_yml() -> None:
    service = h.load_service()
    assert service.refund_handoff_above == Decimal("300") and service.timezone == "Asia/Shanghai"
    assert h.refund_needs_person("300.01", service) and not h.refund_needs_person(300, service)


@pytest.mark.parametrize("text", ["有人吗？？", "客服在吗", "哈囉 有人嗎", "你是机器人吗", "退货单号 SF1234567890123"])
def test_greetings_and_numbers_are_not_a_request_for_a_person(text: str) -> None:
    assert h.trigger_for(text) is None


def test_traditional_script_triggers_too() -> None:
    assert h.trigger_for("幫我轉人工") == h.Trigger("顾客要求人工")
    assert h.trigger_for("我要去消基會申訴").urgent


async def test_the_console_returns_an_offline_agents_chats_to_the_queue(session_factory: sessionmaker) -> None:
    from bot.console.channel import ConsoleInput

    now = [NOW]
    console = ConsoleRepository(session_factory, clock=lambda: now[0])
    channel = ConsoleInput(console=console, service=h.ServiceSettings(agent_offline_seconds=90))
    events: list = []
    channel.hub.publish = events.append  # what the open consoles would be told
    console.add_user("bob", "agent", "x")
    console.heartbeat("bob")
    console.request("c9", "顾客要求人工")
    console.claim("c9", "bob")
    now[0] += timedelta(seconds=60)
    assert await channel.requeue_offline() == [] and console.state("c9").state == h.CLAIMED
    now[0] += timedelta(seconds=60)
    moved = await channel.requeue_offline()
    assert [s.conversation_id for s in moved] == ["c9"] and console.state("c9").state == h.QUEUED
    assert {"type": "queue"} in events
    assert console.messages("c9")[-1].kind == "system"
