"""Issue #10 through the running servers (REST channel): whole conversations, real database.

The unhappy turns a shop meets: no photo now, "好吧，可以" at the wrong moment, a second order in
the same chat, the same problem raised again the next day, and a promise that falls due.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from bot.store.db import make_engine, session_factory
from bot.store.repository import OrderRepository

pytestmark = pytest.mark.server
COLOUR = "1001000000000004"


def _repo(bot_server) -> OrderRepository:
    return OrderRepository(session_factory(make_engine(bot_server.database_url)))


def _colour_complaint(bot, sender, order_id=COLOUR):
    bot.texts(sender, "你好，衣服颜色和图片差别好大")
    bot.texts(sender, f"订单号 {order_id}")
    return bot.texts(sender, f"尾号{order_id[-4:]}")


def _touched_by(repo, order_id, sender):
    """The order's cases this conversation wrote (opened or continued)."""
    return [c for c in repo.cases_for_order(order_id)
            if c.conversation_id == sender or str(c.detail.get("decision_key", "")).startswith(sender + ":")]


def test_no_photo_then_ok_is_not_evidence(bot_server):
    sender = "t-" + uuid.uuid4().hex[:10]
    asked = _colour_complaint(bot_server, sender)
    assert "照片" in asked
    no_photo = bot_server.texts(sender, "现在拍不了照片，发不了图")
    assert no_photo and no_photo != asked and "提醒" in no_photo
    ok = bot_server.texts(sender, "好吧，可以")
    assert "照片收到" not in ok and "确实和页面图片有色差" not in ok
    case, = _touched_by(_repo(bot_server), COLOUR, sender)
    assert case.status == "waiting_evidence" and case.kind == "color_mismatch"


def test_two_orders_in_one_chat_get_two_cases(bot_server):
    sender = "t-" + uuid.uuid4().hex[:10]
    repo = _repo(bot_server)
    _colour_complaint(bot_server, sender)
    bot_server.texts(sender, "照片已经发过去了")
    reply = bot_server.texts(sender, "还有一单 1001000000000002 物流好几天没动了")
    reply += bot_server.texts(sender, "尾号0002") if "尾号" in reply or "手机" in reply else ""
    colour = _touched_by(repo, COLOUR, sender)
    shoes = _touched_by(repo, "1001000000000002", sender)
    assert len(colour) == 1 and colour[0].kind == "color_mismatch" and colour[0].rule == "R10"
    assert len(shoes) == 1 and shoes[0].kind == "delay" and shoes[0].case_id != colour[0].case_id


def test_the_same_problem_tomorrow_continues_the_case_and_a_due_promise_arrives(bot_server):
    coat = "1001000000000011"  # no other test touches this order
    first = "web-" + uuid.uuid4().hex
    _colour_complaint(bot_server, first, coat)
    repo = _repo(bot_server)
    case, = _touched_by(repo, coat, first)
    second = "t-" + uuid.uuid4().hex[:10]
    _colour_complaint(bot_server, second, coat)  # a new conversation about the same coat's colour
    assert [c.case_id for c in repo.cases_for_order(coat)] == [case.case_id]  # continued, not a second case
    assert repo.get_case(case.case_id).status == "waiting_evidence"

    # the photo reminder falls due: the runner inside the server sends it into the conversation
    engine = make_engine(bot_server.database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE follow_ups SET due_at = :past WHERE case_id = :case"),
                     {"past": datetime.utcnow() - timedelta(minutes=1), "case": case.case_id})
    deadline = time.time() + 20
    while time.time() < deadline:
        with urllib.request.urlopen(f"{bot_server.base}/widget/history?conversation_id={first}") as r:
            messages = json.loads(r.read())["messages"]
        shown = [(m.get("message") or {}).get("text", "") for m in messages]
        if any(t.startswith("您好") and "商品照片" in t for t in shown):
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"the due reminder never reached the conversation: {messages[-3:]}")
    # the runner delivers first and stamps the promise kept right after (another thread): wait for it
    kept_by = time.time() + 10
    while time.time() < kept_by and any(f.case_id == case.case_id for f in repo.open_follow_ups()):
        time.sleep(0.2)
    assert all(f.case_id != case.case_id for f in repo.open_follow_ups())
    assert repo.get_case(case.case_id).detail["kept_promises"][0]["kind"] == "photo_reminder"
