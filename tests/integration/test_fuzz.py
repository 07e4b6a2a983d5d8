"""Random and hostile input against the real servers (issue #11): the REST channel, the
widget's HTTP routes and its Socket.IO protocol. Whatever arrives (wrong types, invalid
UTF-8, control characters, huge or deeply nested JSON, unknown events), the answer is never a
500 and never a traceback, and the server goes on answering a normal shopper."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid

import pytest
import socketio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.server

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

text = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FFFF, exclude_categories=["Cs"]), max_size=60
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)
shaped = st.fixed_dictionaries(
    {}, optional={"sender": json_values | text, "message": json_values | text, "metadata": json_values}
)


def _nested(depth: int) -> bytes:
    return (
        ("[" * depth + "]" * depth).encode() if depth % 2 else ('{"a":' * depth + "1" + "}" * depth).encode()
    )


bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    shaped.map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8")),
    st.integers(min_value=1000, max_value=60000).map(_nested),
    st.integers(min_value=900, max_value=80000).map(
        lambda n: json.dumps({"sender": "big", "message": "退" * n}).encode()
    ),
    st.binary(min_size=1, max_size=50).map(lambda b: b'{"sender": "x", "message": "' + b + b'"}'),
)


def _post(base: str, path: str, body: bytes, content_type: str = "application/json"):
    request = urllib.request.Request(base + path, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def _still_serving(bot) -> None:
    assert bot.texts("calm-" + uuid.uuid4().hex[:8], "你好")


@FUZZ
@given(body=bodies)
def test_the_rest_channel_never_answers_500(bot_server, body):
    status, reply = bot_server.post_raw(body)
    assert status < 500 and "Traceback" not in reply, (status, reply[:300])


@FUZZ
@given(path=st.sampled_from(["/widget/rating", "/widget/upload", "/widget/agent_message"]), body=bodies)
def test_the_widget_routes_never_answer_500(bot_server, path, body):
    status, reply = _post(bot_server.base, path, body)
    assert status < 500 and "Traceback" not in reply, (status, reply[:300])


def test_the_servers_still_serve_after_the_fuzzing(bot_server):
    _still_serving(bot_server)
    assert "Traceback" not in "".join(log.read_text(errors="replace") for log in bot_server.logs)


async def _socket_round(base: str, events) -> list:
    client = socketio.AsyncClient(reconnection=False)
    answers = []
    await client.connect(base, socketio_path="/widget/socket.io", transports=["polling"], wait_timeout=10)
    try:
        for name, data in events:
            if name in ("hello", "user_message"):
                answers.append(await client.call(name, data, timeout=20))
            else:  # unknown events are not answered
                await client.emit(name, data)
                answers.append(None)
    finally:
        await client.disconnect()
    return answers


event_names = (
    st.sampled_from(["hello", "user_message", "message", "typing", "nonsense", "user_message"]) | text
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(events=st.lists(st.tuples(event_names, json_values), min_size=1, max_size=4))
def test_the_widget_protocol_survives_anything(bot_server, events):
    answers = asyncio.run(_socket_round(bot_server.base, [("hello", None), *events]))
    assert answers[0]["conversation_id"].startswith("web-")
    assert "Traceback" not in json.dumps(answers, ensure_ascii=False, default=str)
    # and a normal shopper is still answered on a new connection
    hello, reply = asyncio.run(
        _socket_round(bot_server.base, [("hello", None), ("user_message", {"text": "你好"})])
    )
    assert "seq" in reply, reply
