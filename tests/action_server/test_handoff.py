"""action_handoff: the conversation is queued in the database, Rasa is paused, the shopper told the truth."""

from __future__ import annotations

from datetime import timedelta

from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff, _console
from bot import handoff as h
from bot.store.console import ConsoleRepository
from tests.action_server.conftest import make_tracker, user
from tests.conftest import NOW


def _texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


async def test_nobody_online_means_no_promise_of_someone_soon(rt, domain, repo):
    tracker = make_tracker(events=[user("你们这是欺诈，我要打12315", "complain")], sender="conv-angry")
    dispatcher = CollectingDispatcher()
    result = await ActionHandoff().run(dispatcher, tracker, domain)
    assert {"event": "pause", "timestamp": None} in result
    said = _texts(dispatcher)
    assert "马上" not in said and "留言" in said
    state = _console(rt.repo).state("conv-angry")
    assert (state.state, state.urgent, state.reason) == (h.QUEUED, True, "顾客要投诉或要求平台介入")


async def test_with_an_agent_online_the_shopper_hears_the_queue_position(rt, domain, repo):
    console = _console(rt.repo)
    console.add_user("alice", "agent", "x")
    console.heartbeat("alice")
    earlier = ConsoleRepository(rt.repo.session_factory, clock=lambda: NOW - timedelta(minutes=2))
    earlier.request("someone-else", "顾客要求人工")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(events=[user("找你们客服来跟我说", "ask_human")], sender="conv-q")
    await ActionHandoff().run(dispatcher, tracker, domain)
    said = _texts(dispatcher)
    now = console.now()  # NOW is 20:00 in Shanghai: within service hours
    assert "前面还有 1 位" in said and "6 分钟" in said
    assert console.state("conv-q").queued_at == now


def test_a_refund_above_the_bots_authority_goes_to_a_person() -> None:
    from decimal import Decimal

    from actions.service import within_authority
    from bot import policy

    small = policy.Decision(policy.Action.APPROVE_REFUND, "R5", "退款 99 元", refund_amount=Decimal("99"))
    large = policy.Decision(policy.Action.APPROVE_REFUND, "R5", "退款 899 元", refund_amount=Decimal("899"))
    assert within_authority(small) is small
    moved = within_authority(large)
    assert moved.action == policy.Action.HANDOFF and "人工" in moved.reason and moved.refund_amount == Decimal("899")
