"""The widget channel's protocol over HTTP and Socket.IO, in front of a scripted bot (no model needed).

What a shopper's browser relies on: ordered, replayable messages; resent messages stored
once; photos checked by their bytes; ratings stored; every refusal a clear 4xx JSON.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, Dict, List

import pytest
import socketio

from tests.browser.conftest import AGENT_TOKEN, multipart, photo

NEW_CONVERSATION = "web-" + "0" * 32


def conversation() -> str:
    return "web-" + uuid.uuid4().hex


class Shopper:
    """A Socket.IO client speaking the widget protocol (long-polling: the test venv's aiohttp)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.client = socketio.AsyncClient(reconnection=False)
        self.received: List[Dict[str, Any]] = []
        self.client.on("message", self.received.append)

    async def connect(self, conversation_id: Any = None, last_seq: int = 0, epoch: Any = None) -> Dict:
        await self.client.connect(self.base, socketio_path="/widget/socket.io", transports=["polling"])
        return await self.client.call(
            "hello", {"conversation_id": conversation_id, "last_seq": last_seq, "epoch": epoch}
        )

    async def say(self, text: str, **extra: Any) -> Dict:
        return await self.client.call("user_message", {"text": text, **extra})

    async def wait_for(self, count: int, timeout: float = 10) -> List[Dict]:
        for _ in range(int(timeout * 20)):
            if len(self.received) >= count:
                return self.received
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {count} messages, got {self.received}")

    async def close(self) -> None:
        """Disconnect and let the client's long-poll end, so no task outlives the test's loop."""
        reader = self.client.eio.read_loop_task
        await self.client.disconnect()
        if reader is not None:
            await asyncio.wait([reader], timeout=5)


@pytest.fixture
async def shopper(echo_server):
    client = Shopper(echo_server.base)
    yield client
    await client.close()


# ---- Socket.IO ------------------------------------------------------------------------------


async def test_hello_starts_a_conversation_and_replies_arrive_in_order(shopper):
    welcome = await shopper.connect()
    assert welcome["conversation_id"].startswith("web-") and welcome["messages"] == []
    ack = await shopper.say("订单 <b>1001000000000004</b>", cid="c-1")
    assert ack["seq"] == 1
    received = await shopper.wait_for(3)
    assert [m["seq"] for m in received] == [1, 2, 3]
    assert [m["sender"] for m in received] == ["user", "bot", "bot"]
    assert received[0]["message"] == {"text": "订单 <b>1001000000000004</b>"} and received[0]["cid"] == "c-1"
    assert received[2]["message"]["custom"]["type"] == "order_card"


async def test_a_resent_message_is_stored_and_answered_once(shopper):
    await shopper.connect()
    first = await shopper.say("你好", cid="same")
    again = await shopper.say("你好", cid="same")
    await shopper.wait_for(2)
    await asyncio.sleep(0.5)
    assert first == again
    assert [m["sender"] for m in shopper.received] == ["user", "bot"]


async def test_quick_reply_shows_the_title_and_sends_the_payload(shopper):
    await shopper.connect()
    await shopper.say("查物流", payload="/check_order_status", cid="q1")
    user, bot = await shopper.wait_for(2)
    assert user["message"] == {"text": "查物流", "payload": "/check_order_status"}
    assert bot["message"]["text"] == "你说：/check_order_status"
    assert {"title": "转人工", "payload": "/ask_human"} in bot["message"]["buttons"]


async def test_messages_produced_while_offline_arrive_on_reconnect(echo_server, shopper):
    welcome = await shopper.connect()
    conversation_id, epoch = welcome["conversation_id"], welcome["epoch"]
    await shopper.say("你好", cid="r1")
    await shopper.wait_for(2)
    await shopper.close()

    echo_server.agent_says(conversation_id, "您好，我是人工客服小王")
    echo_server.agent_says(conversation_id, "已经看到您的照片了")

    back, reload = Shopper(echo_server.base), Shopper(echo_server.base)
    try:
        resumed = await back.connect(conversation_id, last_seq=2, epoch=epoch)
        assert resumed["conversation_id"] == conversation_id and resumed["last_seq"] == 4
        assert [(m["seq"], m["sender"], m["message"]["text"]) for m in resumed["messages"]] == [
            (3, "agent", "您好，我是人工客服小王"),
            (4, "agent", "已经看到您的照片了"),
        ]
        reloaded = await reload.connect(conversation_id)  # a reloaded page: no seq, no epoch
        assert [m["seq"] for m in reloaded["messages"]] == [1, 2, 3, 4]
    finally:
        await back.close()
        await reload.close()


async def test_a_stale_epoch_replays_everything(echo_server, shopper):
    welcome = await shopper.connect()
    await shopper.say("你好", cid="e1")
    await shopper.wait_for(2)
    other = Shopper(echo_server.base)
    try:
        again = await other.connect(welcome["conversation_id"], last_seq=2, epoch="before-restart")
        assert [m["seq"] for m in again["messages"]] == [1, 2]
    finally:
        await other.close()


@pytest.mark.parametrize("bad_id", [None, "", "../../etc", "web-XYZ", NEW_CONVERSATION + "\n", 42, {"a": 1}])
async def test_a_missing_or_malformed_conversation_id_gets_a_new_one(shopper, bad_id):
    welcome = await shopper.connect(bad_id)
    assert welcome["conversation_id"] != bad_id and welcome["conversation_id"].startswith("web-")


@pytest.mark.parametrize(
    "data, code",
    [
        ({"text": ""}, "empty_message"),
        ({"text": 5}, "empty_message"),
        ({"text": "退" * 1001}, "message_too_long"),
        ({"text": "hi", "payload": "no-slash"}, "bad_payload"),
        ({"text": "hi", "cid": "<script>"}, "bad_cid"),
    ],
)
async def test_bad_user_messages_are_refused_with_a_reason(shopper, data, code):
    await shopper.connect()
    answer = await shopper.client.call("user_message", data)
    assert answer["error"] == code and answer["message"]


async def test_a_message_before_hello_is_refused(echo_server):
    client = Shopper(echo_server.base)
    await client.client.connect(echo_server.base, socketio_path="/widget/socket.io", transports=["polling"])
    try:
        assert (await client.say("你好"))["error"] == "no_hello"
    finally:
        await client.close()


# ---- HTTP -------------------------------------------------------------------------------------


def test_demo_and_the_widget_files_are_served(echo_server):
    for path, kind in [
        ("/widget/demo", "text/html"),
        ("/widget/static/widget.js", "javascript"),
        ("/widget/static/widget.css", "text/css"),
        ("/widget/static/vendor/socket.io.min.js", "javascript"),
    ]:
        status, headers, body = echo_server.request(path)
        assert status == 200 and kind in headers["content-type"] and body, path


@pytest.mark.parametrize(
    "path",
    [
        "/widget/static/package.json",
        "/widget/static/..%2Fcredentials.yml",
        "/widget/static/node_modules/socket.io-client/package.json",
        "/widget/static/demo.html",
    ],
)
def test_nothing_else_is_served_as_static(echo_server, path):
    status, _, body = echo_server.request(path)
    assert status == 404 and b'"dependencies"' not in body and b"rest:" not in body


BAD_JSON = [
    (b"{not json", "malformed_json", 400),
    (b"[1, 2]", "malformed_json", 400),
    (b"\xff\xfe\x00", "malformed_json", 400),
    (b'{"conversation_id": "x", "score": 5}', "bad_conversation", 400),
    (json.dumps({"conversation_id": NEW_CONVERSATION, "score": "5"}).encode(), "bad_score", 422),
    (json.dumps({"conversation_id": NEW_CONVERSATION, "score": 6}).encode(), "bad_score", 422),
    (json.dumps({"conversation_id": NEW_CONVERSATION, "score": True}).encode(), "bad_score", 422),
    (
        json.dumps({"conversation_id": NEW_CONVERSATION, "score": 4, "comment": 12}).encode(),
        "bad_comment",
        422,
    ),
    (
        json.dumps({"conversation_id": NEW_CONVERSATION, "score": 4, "comment": "好" * 501}).encode(),
        "bad_comment",
        422,
    ),
    (b'{"a": "' + b"x" * 20_000 + b'"}', "body_too_large", 413),
]


@pytest.mark.parametrize("body, code, status", BAD_JSON, ids=[c for _, c, _ in BAD_JSON])
def test_bad_rating_requests_get_a_clear_json_error(echo_server, body, code, status):
    got, headers, raw = echo_server.request("/widget/rating", body, {"Content-Type": "application/json"})
    answer = json.loads(raw)
    assert (got, answer["error"]) == (status, code)
    assert "application/json" in headers["content-type"] and answer["message"] and b"Traceback" not in raw


def test_a_rating_is_stored(echo_server):
    conversation_id = conversation()
    status, answer = echo_server.post_json(
        "/widget/rating", {"conversation_id": conversation_id, "score": 4, "comment": "  回复很快 <b>赞</b> "}
    )
    assert status == 201 and answer["ok"]
    rows = echo_server.rows("SELECT score, comment FROM ratings WHERE conversation_id = ?", conversation_id)
    assert rows == [(4, "回复很快 <b>赞</b>")]


@pytest.mark.parametrize(
    "fmt, ext, content_type",
    [("PNG", "png", "image/png"), ("JPEG", "jpg", "image/jpeg"), ("WEBP", "webp", "image/webp")],
)
def test_a_photo_is_checked_by_its_bytes_and_stored(echo_server, fmt, ext, content_type):
    conversation_id = conversation()
    data = photo(fmt)
    body, form_type = multipart(
        {"conversation_id": conversation_id, "cid": "p1"}, "证据.txt", data, "text/plain"
    )
    status, _, raw = echo_server.request("/widget/upload", body, {"Content-Type": form_type})
    answer = json.loads(raw)
    assert status == 201, answer
    stored = list((echo_server.upload_dir / conversation_id).iterdir())
    assert len(stored) == 1 and stored[0].suffix == "." + ext and stored[0].read_bytes() == data
    assert answer["url"] == f"/widget/uploads/{conversation_id}/{stored[0].name}"
    rows = echo_server.rows(
        "SELECT content_type, size, conversation_id, path FROM evidence WHERE id = ?", answer["evidence_id"]
    )
    assert rows == [(content_type, len(data), conversation_id, str(stored[0]))]
    status, headers, served = echo_server.request(answer["url"])
    assert status == 200 and served == data and headers["content-type"] == content_type


def test_a_raw_photo_body_works_too(echo_server):
    conversation_id = conversation()
    status, _, raw = echo_server.request(
        f"/widget/upload?conversation_id={conversation_id}", photo("PNG"), {"Content-Type": "image/png"}
    )
    assert status == 201, raw


REFUSED_UPLOADS = [
    ("not_an_image", 415, "假照片.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"),
    ("not_an_image", 415, "a.gif", b"GIF89a" + b"\x00" * 100, "image/gif"),
    ("not_an_image", 415, "a.pdf", b"%PDF-1.4 ...", "application/pdf"),
    ("empty_photo", 400, "empty.png", b"", "image/png"),
    ("photo_too_large", 413, "big.png", photo("PNG")[:64] + b"\x00" * (5 * 1024 * 1024), "image/png"),
]


@pytest.mark.parametrize(
    "code, status, name, content, content_type", REFUSED_UPLOADS, ids=[r[2] for r in REFUSED_UPLOADS]
)
def test_refused_uploads_store_nothing(echo_server, code, status, name, content, content_type):
    conversation_id = conversation()
    before = echo_server.rows("SELECT count(*) FROM evidence")
    body, form_type = multipart({"conversation_id": conversation_id}, name, content, content_type)
    got, _, raw = echo_server.request("/widget/upload", body, {"Content-Type": form_type})
    answer = json.loads(raw)
    assert (got, answer["error"]) == (status, code) and answer["message"]
    assert not (echo_server.upload_dir / conversation_id).exists()
    assert echo_server.rows("SELECT count(*) FROM evidence") == before


def test_too_large_photo_message_is_chinese_and_says_the_limit(echo_server):
    body, form_type = multipart(
        {"conversation_id": conversation()}, "big.jpg", b"\xff\xd8\xff" + b"0" * 6_000_000, "image/jpeg"
    )
    status, _, raw = echo_server.request("/widget/upload", body, {"Content-Type": form_type})
    assert status == 413 and "5 MB" in json.loads(raw)["message"]


@pytest.mark.parametrize(
    "fields, code",
    [
        ({}, "bad_conversation"),
        ({"conversation_id": "../../etc"}, "bad_conversation"),
        ({"conversation_id": NEW_CONVERSATION + "\n"}, "bad_conversation"),
        ({"conversation_id": NEW_CONVERSATION, "cid": "<x>"}, "bad_cid"),
    ],
)
def test_upload_needs_a_valid_conversation(echo_server, fields, code):
    body, form_type = multipart(fields, "a.png", photo("PNG"), "image/png")
    status, _, raw = echo_server.request("/widget/upload", body, {"Content-Type": form_type})
    assert status == 400 and json.loads(raw)["error"] == code


def test_upload_without_a_photo_or_with_a_broken_form(echo_server):
    status, _, raw = echo_server.request(
        "/widget/upload", b"--x\r\nbroken", {"Content-Type": "multipart/form-data"}
    )
    assert status == 400 and json.loads(raw)["error"] == "bad_form"
    body, form_type = multipart({"conversation_id": NEW_CONVERSATION}, "a.png", b"", "image/png")
    body = body.replace(b'name="photo"', b'name="other"')
    status, _, raw = echo_server.request("/widget/upload", body, {"Content-Type": form_type})
    assert status == 400 and json.loads(raw)["error"] == "no_photo"


@pytest.mark.parametrize(
    "path",
    [
        f"/widget/uploads/{NEW_CONVERSATION}/../../shop.db",
        f"/widget/uploads/{NEW_CONVERSATION}/{'a' * 32}.png",
        "/widget/uploads/x/y.png",
    ],
)
def test_only_stored_photos_are_served(echo_server, path):
    status, _, _ = echo_server.request(path)
    assert status in (400, 404)


def test_history_replays_the_outbox(echo_server):
    conversation_id = conversation()
    echo_server.agent_says(conversation_id, "第一条")
    echo_server.agent_says(conversation_id, "第二条")
    status, _, raw = echo_server.request(f"/widget/history?conversation_id={conversation_id}&after=1")
    answer = json.loads(raw)
    assert status == 200 and answer["last_seq"] == 2
    assert [(m["seq"], m["sender"], m["message"]["text"]) for m in answer["messages"]] == [
        (2, "agent", "第二条")
    ]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "conversation_id=nope",
        f"conversation_id={NEW_CONVERSATION}&after=-1",
        f"conversation_id={NEW_CONVERSATION}&after=x",
    ],
)
def test_history_refuses_bad_queries(echo_server, query):
    status, _, raw = echo_server.request("/widget/history?" + query)
    assert status == 400 and json.loads(raw)["message"]


@pytest.mark.parametrize("token", [None, "wrong", AGENT_TOKEN + "x"])
def test_only_agents_with_the_token_may_post(echo_server, token):
    status, answer = echo_server.post_json(
        "/widget/agent_message", {"conversation_id": conversation(), "text": "hi"}, token
    )
    assert status == 403 and answer["error"] == "forbidden"


@pytest.mark.parametrize(
    "data",
    [
        {"conversation_id": "x", "text": "hi"},
        {"conversation_id": NEW_CONVERSATION},
        {"conversation_id": NEW_CONVERSATION, "text": ["a"]},
    ],
)
def test_bad_agent_messages_are_refused(echo_server, data):
    status, answer = echo_server.post_json("/widget/agent_message", data, AGENT_TOKEN)
    assert 400 <= status < 500 and answer["message"]


# ---- in-process: what the channel makes of Rasa's messages and trackers ----------------------------


def test_bot_messages_keep_text_buttons_and_custom_payloads():
    from bot.channels.protocol import bot_message

    shown = bot_message(
        {
            "recipient_id": "web-x",
            "text": "请选择",
            "quick_replies": [{"title": "换货", "payload": "/request_exchange"}, {"title": "无效"}],
            "custom": {"type": "order_card", "order_id": "1"},
            "image": None,
        }
    )
    assert shown == {
        "text": "请选择",
        "buttons": [{"title": "换货", "payload": "/request_exchange"}],
        "custom": {"type": "order_card", "order_id": "1"},
    }


async def test_a_forgotten_conversation_comes_back_from_the_tracker_store():
    from types import SimpleNamespace

    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.channels.widget import WidgetInput

    conversation_id = conversation()
    buttons = [{"title": "照片已上传", "payload": "/send_photo"}]
    events = [
        UserUttered("/color_mismatch", metadata={"display": "色差问题"}),
        BotUttered("请拍一张照片", data={"buttons": buttons}),
        UserUttered("/send_photo", metadata={"photo": {"url": f"/widget/uploads/{conversation_id}/a.png"}}),
    ]
    tracker = DialogueStateTracker.from_events(conversation_id, events)

    async def retrieve(sender_id):
        return tracker if sender_id == conversation_id else None

    channel = WidgetInput()
    channel.app = SimpleNamespace(
        ctx=SimpleNamespace(agent=SimpleNamespace(tracker_store=SimpleNamespace(retrieve=retrieve)))
    )
    await channel._restore_from_tracker(conversation_id)
    assert [(e.seq, e.sender, e.message) for e in channel.outbox.since(conversation_id).entries] == [
        (1, "user", {"text": "色差问题"}),
        (2, "bot", {"text": "请拍一张照片", "buttons": buttons}),
        (3, "user", {"type": "photo", "url": f"/widget/uploads/{conversation_id}/a.png"}),
    ]
