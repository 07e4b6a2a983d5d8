"""R14: every promise the bot's words make is recorded, and the runner keeps it once."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

from actions import bargaining, service
from actions.cases import PROMISE_KINDS
from bot.cli import main as cli
from bot.domain import CaseChange, Promise
from bot.followups import FollowUpRunner, message_for
from bot.store.repository import OrderRepository
from tests.conftest import NOW
from tests.unit.test_policy import every_decision

ROOT = Path(__file__).resolve().parents[2]
# the words with which the bot commits to do something later (R14): each must be recorded
PROMISING = re.compile(
    r"提醒您|主动通知|第一时间(发|告诉|同步|通知)|同步给您|会告诉您|小时内(给您|把|告诉|回复|答复|同步|联系)"
    r"|给您答复|新单号出来后|退款结果会同步"
)


def test_every_promising_decision_records_a_follow_up():
    promising = 0
    for o, request_, answers, d in every_decision():
        if PROMISING.search(d.reason):
            promising += 1
            assert d.follow_up_hours, f"{request_.value} {o.shipment.state.value} {answers}: {d.reason}"
            assert d.action in PROMISE_KINDS, d.action  # and the runner knows how to keep it
    assert promising > 20


def test_promising_replies_of_the_actions_are_the_ones_that_record():
    """The actions' own texts that promise are those whose code paths record a follow-up."""
    promising = {name for module in (service, bargaining) for name, value in vars(module).items()
                 if isinstance(value, tuple) and any(isinstance(v, str) and PROMISING.search(v) for v in value)}
    # _TRACKING_SAVED: refund_on_return (test_service); _RESHIP: reship_tracking (test_service R11);
    # _PHOTO_NO_RUSH is said only when the photo reminder is already recorded (test_cases)
    assert promising == {"_TRACKING_SAVED", "_RESHIP", "_PHOTO_NO_RUSH"}


def _promise(repo: OrderRepository, kind: str, order_id: str, due_in_hours: float, conversation: str = "web-a"):
    change = CaseChange(order_id, "delay", "R11", "open", conversation,
                        promise=Promise(kind, "我会在24小时内给您消息", NOW + timedelta(hours=due_in_hours)))
    return repo.record_decision(change).case


def test_runner_keeps_due_promises_once_and_notes_them_on_the_case(repo):
    case = _promise(repo, "courier_news", "1001000000000002", -1)
    _promise(repo, "courier_news", "1001000000000012", +5)  # not due yet
    sent = []

    async def deliver(conversation, text):
        sent.append((conversation, text))

    one = FollowUpRunner(repo, deliver, clock=lambda: NOW)
    two = FollowUpRunner(repo, deliver, clock=lambda: NOW)  # a second replica's runner

    async def both():
        return await asyncio.gather(one.run_once(), two.run_once())

    kept = asyncio.run(both())
    assert sum(len(k) for k in kept) == 1 and len(sent) == 1
    conversation, text = sent[0]
    assert conversation == "web-a" and "您好" in text and "转运中心" in text  # the parcel's latest scan
    noted = repo.get_case(case.case_id).detail["kept_promises"]
    assert noted[0]["kind"] == "courier_news" and noted[0]["message"] == text
    assert repo.due_follow_ups(NOW) == [] and asyncio.run(one.run_once()) == []


def test_a_photo_reminder_is_silent_once_the_photo_came(repo):
    case = _promise(repo, "photo_reminder", "1001000000000004", -1)
    repo.add_evidence(case.case_id, "var/uploads/p.jpg", "image/jpeg", 10, conversation_id="web-a")
    sent = []

    async def deliver(conversation, text):
        sent.append(text)

    assert len(asyncio.run(FollowUpRunner(repo, deliver, clock=lambda: NOW).run_once())) == 1
    assert sent == [] and repo.open_follow_ups() == []


def test_a_failed_delivery_is_tried_again_next_pass(repo):
    _promise(repo, "refund_on_return", "1001000000000015", -1)
    calls = []

    async def flaky(conversation, text):
        calls.append(text)
        if len(calls) == 1:
            raise ConnectionError("outbox away")

    runner = FollowUpRunner(repo, flaky, clock=lambda: NOW)
    assert asyncio.run(runner.run_once()) == []
    assert len(asyncio.run(runner.run_once())) == 1 and len(calls) == 2


def test_message_for_every_kind_is_polite_and_promises_nothing_new():
    for kind in ("photo_reminder", "courier_news", "refund_on_return", "reship_tracking", "promise"):
        follow_up = type("F", (), {"kind": kind})()
        text = message_for(follow_up, None, None)
        assert text and text.startswith("您好") and "马上有人" not in text


def test_cli_lists_what_is_due_and_overdue(repo, session_factory, capsys):
    _promise(repo, "courier_news", "1001000000000002", -30)
    url = session_factory.kw["bind"].url.render_as_string(hide_password=False)
    assert cli(["--database-url", url, "followups"]) == 0
    out = capsys.readouterr().out
    assert "courier_news" in out and "逾期" in out
