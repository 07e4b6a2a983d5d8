"""Serving fixes for Rasa 3.6, found by profiling the server under load (README "Speed").

Rasa checks every answer of the action server against a JSON schema with
``jsonschema.validate(result, schema)``. That call first validates the *schema itself* against
the JSON-Schema meta-schema and then builds a new validator, on every action call: profiled with
py-spy under ``make bench``, it was 88% of the Rasa server's busy time. Here the validator is
built (and the schema checked) once; every response is still validated against the same schema
and a bad one still raises the same ``ValidationError`` with Rasa's explanation.

Even with the validator built once, checking a response costs ~1.3 ms, because every event
is tried against all 23 event kinds of Rasa's ``oneOf``. Each kind is fixed by its ``event``
name (a ``const``), so an event is valid under exactly one kind iff it is valid under the kind
its name selects: ``_fast_valid`` checks just that one. Whenever the fast check finds anything
wrong, the full validator runs and raises Rasa's own error, so bad responses fail exactly as
before (tests/unit/test_serving.py compares both on good and bad responses).

Rasa also opens a new aiohttp session, and so a new TCP connection, for every call to the
action server (``EndpointConfig.session``): ~1.2 ms of the Rasa server's time per call, and a
connection set-up on the action server too. ``_shared_session`` keeps one session per endpoint
and event loop with keep-alive connections; idle ones are dropped after 2 s, before the action
server (Sanic, 5 s) would drop them, so a request never lands on a connection being closed.

Every NLU parse and every next-action prediction runs the model's graph through dask
(``DaskGraphRunner``): per run it re-derives the minimal sub-graph, builds a dask graph, orders
it and schedules a dozen tiny tasks, ~1 ms of bookkeeping for microseconds of work, three or
four times per turn. ``SequentialGraphRunner`` computes each target set's order once and calls
the same graph nodes, in the same dependency order, with the same inputs.

``install()`` is idempotent. ``python -m bot.serve`` (what ``make run``, the tests and the
benchmark start) installs it and then runs Rasa's own command line.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

_INSTALLED = False


@functools.cache
def _response_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, not per call
    return cls(schema)


@functools.cache
def _fast_validators() -> Any:
    """(response envelope validator, {event name: validator of that event kind})."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.utils.schemas.events import EVENT_SCHEMA

    schema = dict(RemoteAction.action_response_format_spec())
    properties = dict(schema["properties"])
    properties["events"] = {"type": "array", "items": {k: v for k, v in EVENT_SCHEMA.items() if k != "oneOf"}}
    envelope = {**schema, "properties": properties}
    cls = validator_for(envelope)
    kinds = {}
    for kind in EVENT_SCHEMA["oneOf"]:
        name = kind["properties"]["event"]["const"]
        if name in kinds:  # not a discriminated union any more: always use the full check
            return None
        kinds[name] = cls(kind)
    return cls(envelope), kinds


def _fast_valid(result: Any) -> bool:
    """True only if ``result`` is certainly valid; False means "ask the full validator"."""
    validators = _fast_validators()
    if validators is None or not isinstance(result, dict):
        return False
    envelope, kinds = validators
    if not envelope.is_valid(result):
        return False
    for event in result.get("events") or []:
        kind = kinds.get(event.get("event"))
        if kind is None or not kind.is_valid(event):
            return False
    return True


def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    if _fast_valid(result):
        return True
    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from "
        f"the Action endpoint is valid. For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


class _Borrowed:
    """``async with`` on a shared session: hands it out and leaves it open."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *exc: Any) -> bool:
        return False


_SESSIONS: Dict[Any, Any] = {}
KEEPALIVE_SECONDS = 2.0  # below Sanic's 5 s keep-alive on the action server


def _shared_session(self: Any) -> Any:
    import asyncio

    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    loop = asyncio.get_running_loop()
    auth = tuple(sorted(self.basic_auth.items())) if self.basic_auth else None
    key = (id(loop), self.url, tuple(sorted(self.headers.items())), auth)
    session = _SESSIONS.get(key)
    if session is None or session.closed or session.loop is not loop:
        for stale in [k for k, s in _SESSIONS.items() if s.closed or s.loop.is_closed()]:
            del _SESSIONS[stale]  # sessions of event loops that have ended (tests, restarts)
        session = aiohttp.ClientSession(
            headers=self.headers,
            auth=aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if auth else None,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=KEEPALIVE_SECONDS),
        )
        _SESSIONS[key] = session
    return _Borrowed(session)


class SequentialGraphRunner(DaskGraphRunner):
    """Runs the graph's nodes one after another in a cached dependency order (see above)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: Dict[Tuple[Text, ...], List[Tuple[Text, List[Text]]]] = {}

    def run(self, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        run_targets = list(targets) if targets else list(self._graph_schema.target_names)
        values: Dict[Text, Any] = {}
        for name, value in (inputs or {}).items():
            if name in self._graph_schema.nodes:
                raise GraphRunError(
                    f"Input value '{name}' clashes with a node name. Make sure that none of the "
                    f"input names passed to the `run` method are the same as node names in the "
                    f"graph schema."
                )
            values[name] = (name, value)
        try:
            for name, needs in self._plan(tuple(run_targets)):
                values[name] = self._instantiated_nodes[name](*(values.get(n, n) for n in needs))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(values[t] for t in run_targets)

    def _plan(self, targets: Tuple[Text, ...]) -> List[Tuple[Text, List[Text]]]:
        """The nodes the targets need, parents first, each with the names of its inputs."""
        if targets not in self._plans:
            schema = self._graph_schema.minimal_graph_schema(list(targets))
            order: List[Tuple[Text, List[Text]]] = []
            seen: set = set()

            def visit(name: Text) -> None:
                if name in seen or name not in schema.nodes:
                    return
                seen.add(name)
                needs = list(schema.nodes[name].needs.values())
                for parent in needs:
                    visit(parent)
                order.append((name, needs))

            for target in targets:
                visit(target)
            self._plans[targets] = order
        return self._plans[targets]


FIXES = ("validator", "session", "runner")


def install(skip: Optional[str] = None) -> None:
    """Replace Rasa's per-call schema check, per-call HTTP session and dask runner (see above).

    ``skip`` (default: the ``BOT_SERVING_SKIP`` environment variable) is a comma-separated
    subset of ``FIXES`` to leave out, for measuring what each one buys (README "Speed").
    """
    global _INSTALLED
    if _INSTALLED:
        return
    import os

    import rasa.core.processor
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    skipped = {s.strip() for s in (skip if skip is not None else os.environ.get("BOT_SERVING_SKIP", "")).split(",")}
    if "validator" not in skipped:
        RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]
    if "session" not in skipped:
        EndpointConfig.session = _shared_session  # type: ignore[assignment]
    if "runner" not in skipped:
        rasa.core.processor.DaskGraphRunner = SequentialGraphRunner  # type: ignore[attr-defined]
    _INSTALLED = True
