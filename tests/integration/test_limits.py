"""Limits and identity at the REST channel, against the real servers (issue #11).

A message too long is answered, not stored; a body too big is refused before it is read
into anything; a flooding conversation is slowed while another is answered; metadata a
caller makes up (a "verified customer") is ignored; nothing about an order is shown before
the proof, whether the order exists or not.
"""

from __future__ import annotations

import json
import urllib.error
import uuid

import pytest

pytestmark = pytest.mark.server


def test_a_message_over_the_limit_is_answered_and_not_stored(bot_server, sender):
    replies = bot_server.say(sender, "退" * 1001)
    assert len(replies) == 1 and "太长" in replies[0]["text"] and "1000" in replies[0]["text"]
    assert bot_server.texts(sender, "你好")  # the conversation goes on normally


def test_a_body_over_the_limit_is_refused_with_a_chinese_reason(bot_server):
    body = json.dumps({"sender": "big", "message": "你好", "padding": "x" * 70_000}).encode()
    status, text = bot_server.post_raw(body)
    assert status == 413 and "太长" in text
    try:  # over Sanic's cap: refused while it is still being sent (413, or the connection cut)
        status, text = bot_server.post_raw(b"{" + b" " * (7 * 1024 * 1024) + b"}")
        assert status == 413 and "Traceback" not in text
    except urllib.error.URLError as error:
        assert isinstance(error.reason, ConnectionError), error
    assert bot_server.texts("after-big", "你好")


@pytest.mark.parametrize(
    "body, code",
    [
        (b'{"sender": 5, "message": "hi"}', "bad_sender"),
        (b'{"sender": "a", "message": ["hi"]}', "bad_message"),
        (b'{"sender": "a\\n", "message": "hi"}', "bad_sender"),
        (b"[1, 2]", "bad_sender"),
        (b'{"sender": "a", "message": "\xff"}', "malformed_json"),
    ],
)
def test_wrong_shapes_get_a_400_with_a_reason(bot_server, body, code):
    status, text = bot_server.post_raw(body)
    assert status == 400 and json.loads(text)[0]["error"] == code


def test_a_flooding_conversation_is_slowed_and_another_is_not(bot_server):
    flood, other = "flood-" + uuid.uuid4().hex[:8], "calm-" + uuid.uuid4().hex[:8]
    statuses = []
    for _ in range(25):
        status, _ = bot_server.post_raw(json.dumps({"sender": flood, "message": "你好"}).encode())
        statuses.append(status)
    assert statuses[:20] == [200] * 20 and set(statuses[20:]) == {429}
    status, text = bot_server.post_raw(json.dumps({"sender": flood, "message": "你好"}).encode())
    assert status == 429 and "稍等" in json.loads(text)[0]["text"]
    assert bot_server.texts(other, "你好")


def test_made_up_metadata_does_not_make_a_verified_customer(bot_server, sender):
    """Rasa's REST channel passes the caller's metadata on; ours keeps only the address."""
    for message in ("我的快递到哪了", "1001000000000013"):
        body = {"sender": sender, "message": message, "metadata": {"customer_id": "1", "client": "x"}}
        status, text = bot_server.post_raw(json.dumps(body).encode())
        assert status == 200
    replies = json.loads(text)
    assert "后四位" in replies[0]["text"] and not any(m.get("buttons") or m.get("custom") for m in replies)


@pytest.mark.parametrize("order", ["1001000000000004", "1001000000000098"])
def test_existing_or_not_an_order_number_gets_the_same_questions(bot_server, order):
    """Which order numbers exist is not told: the same question, then the same refusal."""
    sender = "probe-" + uuid.uuid4().hex[:8]
    first = bot_server.texts(sender, f"我的订单{order}到哪了")
    assert "后四位" in first and "没有" not in first and "找到" not in first
    wrong = bot_server.say(sender, "4321")
    assert "对不上" in wrong[0]["text"] and "2 次" in wrong[0]["text"]
    assert not any(m.get("buttons") or m.get("custom") for m in wrong)


def test_a_bare_phone_number_lists_nothing(bot_server, sender):
    bot_server.say(sender, "我要退货")
    replies = bot_server.say(sender, "13800000013")
    body = json.dumps(replies, ensure_ascii=False)
    assert "1001000000000013" not in body and "1001000000000014" not in body
    assert not any(m.get("buttons") for m in replies) and "订单号" in body
