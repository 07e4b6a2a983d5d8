"""bot.serving: the fast action-response check accepts and refuses exactly what Rasa's does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction

from bot import serving

SCHEMA = RemoteAction.action_response_format_spec()
FULL = validator_for(SCHEMA)(SCHEMA)

GOOD = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "order_id", "value": "1001000000000004", "timestamp": None}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "slot", "name": "requested_slot", "value": None}]},
    {"events": [{"event": "followup", "name": "action_listen"}], "responses": [{"text": "您好"}]},
    {"events": [{"event": "bot", "text": "好的", "metadata": {"script": "traditional"}}]},
    {"responses": [{"response": "utter_greet"}, {"text": "订单卡片", "custom": {"order": "x"}}]},
]

BAD = [
    {"events": "slot"},
    {"events": [{"event": 3}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "order_id"}]},
    {"events": [{"event": "slot", "timestamp": "yesterday"}]},
    {"events": [{"event": "slot", "metadata": []}]},
    {"responses": [1]},
    {"responses": "您好"},
    {"events": [{"event": "user", "text": 5}]},
    {"events": [None]},
]


@pytest.mark.parametrize("response", GOOD)
def test_good_responses_pass_both_checks(response):
    assert FULL.is_valid(response)
    assert serving._fast_valid(response)
    assert serving._validate_action_result(None, response) is True


@pytest.mark.parametrize("response", BAD)
def test_bad_responses_fail_as_rasa_would(response):
    assert not FULL.is_valid(response)
    assert not serving._fast_valid(response)
    with pytest.raises(ValidationError) as raised:
        serving._validate_action_result(None, response)
    assert "Failed to validate Action server response" in raised.value.message


def test_install_replaces_rasas_check_once():
    serving.install()
    serving.install()
    assert RemoteAction._validate_action_result is serving._validate_action_result


async def _server(handler):
    from aiohttp import web

    app = web.Application()
    app.router.add_post("/webhook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


async def test_calls_to_an_endpoint_reuse_one_keep_alive_connection():
    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    serving.install()
    peers = []

    async def handler(request):
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"events": [], "echo": (await request.json())["n"]})

    runner, port = await _server(handler)
    try:
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
        answers = [await endpoint.request(json={"n": n}) for n in range(5)]
        assert [a["echo"] for a in answers] == list(range(5))
        assert len(peers) == 5 and len(set(peers)) == 1, "one connection for all five calls"
    finally:
        await runner.cleanup()


async def test_errors_from_the_endpoint_still_raise():
    from aiohttp import web
    from rasa.core.actions.action import ClientResponseError
    from rasa.utils.endpoints import EndpointConfig

    serving.install()

    async def handler(request):
        return web.json_response({"error": "no such action"}, status=404)

    runner, port = await _server(handler)
    try:
        with pytest.raises(ClientResponseError) as raised:
            await EndpointConfig(f"http://127.0.0.1:{port}/webhook").request(json={})
        assert raised.value.status == 404
    finally:
        await runner.cleanup()
