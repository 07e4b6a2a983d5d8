"""The inbox on recorded conversations in a real SQLTrackerStore and a migrated shop database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from bot.store import db
from bot.store import models as m
from bot.trainer.inbox import Inbox, item_key, thresholds
from tests.unit.trainer_conversations import parse, record, store
from tests.unit.trainer_project import ROOT, make_project, run


@pytest.fixture
def inbox(tmp_path):
    path = tmp_path / "shop.db"
    url = f"sqlite:///{path}"
    db.upgrade_to_head(url)
    tracker_store = store(path)
    t0 = time.time() - 600
    record(tracker_store, "c-fallback", [
        ("user", "你好", parse("greet", 0.95)),
        ("bot", "您好"),
        ("user", "我叫王小明 那个东西咋整啊 13912345678", parse("complain", 0.2, fallback=True)),
        ("bot", "没太明白"),
    ], start=t0)
    record(tracker_store, "c-ambiguous", [
        ("user", "颜色和尺码都不对", parse("color_mismatch", 0.41, ("size_mismatch", 0.39))),
    ], start=t0 + 10)
    record(tracker_store, "c-handoff", [
        ("user", "订单1001000000000004怎么回事", parse("check_order_status", 0.9, entities=[
            {"entity": "order_id", "start": 2, "end": 18, "value": "1001000000000004"}])),
        ("action", "action_handoff"),
        ("bot", "已为您转接人工"),
    ], start=t0 + 20)
    record(tracker_store, "c-rated", [("user", "行吧 就这样吧", parse("affirm", 0.8)), ("bot", "好的")],
           start=t0 + 30)
    record(tracker_store, "c-fine", [("user", "谢谢", parse("thank", 0.97))], start=t0 + 40)
    record(tracker_store, "c-again", [("user", "那个东西咋整啊！", parse("complain", 0.22, fallback=True))],
           start=t0 + 50)
    with db.session_factory(db.make_engine(url))() as session, session.begin():
        session.add(m.RatingRow(conversation_id="c-rated", score=1, comment="",
                                created_at=datetime.fromtimestamp(t0 + 40, timezone.utc).replace(tzinfo=None)))
        session.add(m.RatingRow(conversation_id="c-fine", score=5, comment="",
                                created_at=datetime.fromtimestamp(t0 + 50, timezone.utc).replace(tzinfo=None)))
    return Inbox(url, url, project=make_project(tmp_path / "project"))


def by_text(items):
    return {i["text"]: i for i in items}


def test_thresholds_come_from_the_served_config():
    limits = thresholds()
    assert (limits.fallback, limits.ambiguity) == (0.3, 0.05)


def test_selection_reasons_masking_and_context(inbox):
    items = by_text(inbox.items())
    fallback = items["我叫*** 那个东西咋整啊 139****5678"]
    assert fallback["reasons"] == ["low_confidence"]
    assert (fallback["intent"], fallback["confidence"]) == ("complain", 0.2)  # the guess behind nlu_fallback
    assert [t["text"] for t in fallback["context"]] == ["你好", "您好", "我叫*** 那个东西咋整啊 139****5678", "没太明白"]
    assert fallback["context"][2]["this"] and fallback["context"][0]["intent"] == "greet"
    assert items["颜色和尺码都不对"]["reasons"] == ["ambiguous"]
    handoff = items["订单1001********0004怎么回事"]
    assert handoff["reasons"] == ["before_handoff"] and handoff["conversation_id"] == "c-handoff"
    assert handoff["entities"] == [{"entity": "order_id", "start": 2, "end": 18, "value": "1001********0004"}]
    assert items["行吧 就这样吧"]["reasons"] == ["before_low_rating"]
    assert "谢谢" not in items and "你好" not in items


def test_duplicates_are_one_item_with_a_count(inbox):
    assert by_text(inbox.items())["那个东西咋整啊！"]["count"] == 1  # the name and phone make it another text
    inbox.flag("c-again", "那个东西咋整啊", agent="agent-1", note="shopper meant a broken zip")
    item = by_text(inbox.items())["那个东西咋整啊！"]
    assert item["count"] == 2 and item["reasons"] == ["flagged", "low_confidence"]
    assert item["id"] == item_key("那个东西咋整啊")


def test_a_flag_on_a_message_the_store_does_not_have_is_still_an_item(inbox):
    inbox.flag("c-elsewhere", "拉链坏了怎么办", agent="agent-1")
    item = by_text(inbox.items())["拉链坏了怎么办"]
    assert item["reasons"] == ["flagged"] and item["conversation_id"] == "c-elsewhere"


def test_new_messages_appear_at_once(inbox, tmp_path):
    before = len(inbox.items())
    record(store(tmp_path / "shop.db"), "c-new", [("user", "嗯嗯嗯？", parse("affirm", 0.1, fallback=True))])
    assert len(inbox.items()) == before + 1


def test_discard_hides_the_item_and_its_duplicates(inbox):
    item = by_text(inbox.items())["颜色和尺码都不对"]
    inbox.discard(item["id"], trainer="Li Wei")
    assert "颜色和尺码都不对" not in by_text(inbox.items())
    assert inbox.item(item["id"]) is None


def test_annotate_saves_validates_commits_and_closes(inbox):
    item = by_text(inbox.items())["订单1001********0004怎么回事"]
    result = inbox.annotate(item["id"], "check_order_status",
                            [{"start": 2, "end": 18, "entity": "order_id"}], trainer="Li Wei")
    assert result.added == [("orders.yml", "订单[2024010100000001](order_id)怎么回事")]
    orders = (inbox.project / "data" / "nlu" / "orders.yml").read_text()
    assert "- 订单[2024010100000001](order_id)怎么回事" in orders and "1001000000000004怎么回事" not in orders
    assert run(inbox.project, "log", "-1", "--format=%an").strip() == "Li Wei"
    assert inbox.item(item["id"]) is None


def test_conversation_review_reads_and_filters(inbox):
    turns = inbox.conversation("c-handoff")
    assert [t["speaker"] for t in turns] == ["user", "handoff", "bot"]
    assert turns[0]["text"] == "订单1001********0004怎么回事" and turns[0]["intent"] == "check_order_status"
    assert [c["conversation_id"] for c in inbox.search(handed_off=True)] == ["c-handoff"]
    assert {c["conversation_id"] for c in inbox.search(fell_back=True)} == {"c-fallback", "c-again"}
    assert [c["conversation_id"] for c in inbox.search(max_rating=2)] == ["c-rated"]
    assert [c["conversation_id"] for c in inbox.search(intent="thank")] == ["c-fine"]
    newest = inbox.search()[0]
    assert newest["conversation_id"] == "c-again" and newest["messages"] == 1
    assert inbox.search(since=newest["last"] + 1) == []


def test_a_database_without_rasas_events_says_so(tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    db.upgrade_to_head(url)
    with pytest.raises(LookupError, match="SQL tracker store"):
        Inbox(url, url).items()


def test_the_terminal_shows_the_same_inbox(inbox, tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'shop.db'}")
    done = subprocess.run([sys.executable, "-m", "bot.trainer", "inbox"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == len(inbox.items())
    assert any("before_handoff" in line and "订单1001********0004怎么回事" in line for line in lines)
