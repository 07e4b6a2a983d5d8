"""bot.serving: the fast action-response check accepts and refuses exactly what Rasa's does."""

from __future__ import annotations

from pathlib import Path

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


# --- the sequential graph runner gives what dask gives, on the served model ---------------

MODEL = Path(__file__).resolve().parents[2] / "models" / "assistant.tar.gz"  # built by `make test`


@pytest.fixture(scope="module")
def runners(tmp_path_factory):
    from rasa.engine.loader import load_predict_graph_runner
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    metadata, dask = load_predict_graph_runner(
        tmp_path_factory.mktemp("dask"), MODEL, LocalModelStorage, DaskGraphRunner
    )
    _, sequential = load_predict_graph_runner(
        tmp_path_factory.mktemp("seq"), MODEL, LocalModelStorage, serving.SequentialGraphRunner
    )
    return metadata, dask, sequential


TEXTS = ["你好", "我的订单1001000000000002到哪了", "0002", "羊毛衫颜色跟图片差太多了", "電吹風壞了能保修嗎",
         "至少给我补五十块", "", "qwerty"]


@pytest.mark.parametrize("text", TEXTS)
def test_sequential_runner_parses_as_dask_does(runners, text):
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.core.trackers import DialogueStateTracker

    metadata, dask, sequential = runners
    results = []
    for runner in (dask, sequential):
        tracker = DialogueStateTracker("t", metadata.domain.slots)
        out = runner.run(inputs={PLACEHOLDER_MESSAGE: [UserMessage(text)], PLACEHOLDER_TRACKER: tracker},
                         targets=[metadata.nlu_target])
        results.append(out[metadata.nlu_target][0].as_dict(only_output_properties=True))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "intent, entities",
    [("greet", []), ("color_mismatch", []), ("inform_order", [{"entity": "order_id", "value": "1001000000000004"}]),
     ("nlu_fallback", []), ("ask_human", [])],
)
def test_sequential_runner_predicts_as_dask_does(runners, intent, entities):
    from rasa.engine.constants import PLACEHOLDER_TRACKER
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    metadata, dask, sequential = runners
    predictions = []
    for runner in (dask, sequential):
        tracker = DialogueStateTracker.from_events(
            "t",
            [ActionExecuted("action_listen"),
             UserUttered("…", intent={"name": intent, "confidence": 0.9}, entities=entities)],
            slots=metadata.domain.slots,
        )
        out = runner.run(inputs={PLACEHOLDER_TRACKER: tracker}, targets=[metadata.core_target])
        prediction = out[metadata.core_target]
        predictions.append((prediction.policy_name, prediction.max_confidence_index, prediction.probabilities))
    assert predictions[0] == predictions[1]
    assert predictions[0][2] and max(predictions[0][2]) > 0


def test_sequential_runner_refuses_an_input_named_like_a_node(runners):
    from rasa.engine.exceptions import GraphRunError

    metadata, _, sequential = runners
    with pytest.raises(GraphRunError):
        sequential.run(inputs={metadata.nlu_target: "x"}, targets=[metadata.nlu_target])


async def test_a_restarted_action_server_is_reached_again():
    """Kept-alive connections to a server that went away are not reused: the next call reconnects."""
    import asyncio

    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    serving.install()

    async def handler(request):
        return web.json_response({"events": []})

    runner, port = await _server(handler)
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
    assert await endpoint.request(json={}) == {"events": []}
    await runner.cleanup()  # the action server stops ...
    app = web.Application()
    app.router.add_post("/webhook", handler)
    again = web.AppRunner(app)
    await again.setup()
    await web.TCPSite(again, "127.0.0.1", port).start()  # ... and comes back on the same port
    try:
        await asyncio.sleep(0.05)
        assert await endpoint.request(json={}) == {"events": []}
    finally:
        await again.cleanup()
