"""Actions tested with the real SDK objects: a Tracker built from events, a
CollectingDispatcher, the project's domain, and a seeded database behind the runtime."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from ruamel.yaml import YAML

from actions import runtime
from bot.settings import load_settings
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return YAML(typ="safe").load((ROOT / "domain.yml").read_text())


@pytest.fixture
def rt(repo):
    """The action runtime over the seeded test database, with a fixed clock and seed."""
    installed = runtime.Runtime(repo=repo, settings=load_settings(), clock=lambda: NOW, rng=random.Random(7))
    runtime.configure(installed)
    yield installed
    runtime.configure(None)


def user(text: str, intent: str, entities: Optional[List[Dict]] = None, message_id: Optional[str] = None,
         channel: Optional[str] = None) -> Dict[str, Any]:
    """A shopper message as Rasa records it (``message_id`` and ``input_channel`` when given)."""
    event = {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": 0.99},
                                                           "entities": entities or [], "text": text}}
    if message_id:
        event["message_id"] = message_id
    if channel:
        event["input_channel"] = channel
    return event


def make_tracker(slots: Optional[Dict[str, Any]] = None, events: Optional[List[Dict]] = None,
                 active_loop: Optional[str] = None, sender: str = "test-user") -> Tracker:
    events = events or []
    latest = next((e["parse_data"] | {"text": e["text"], "message_id": e.get("message_id")}
                   for e in reversed(events) if e["event"] == "user"), {})
    base_slots = {"proof_failures": 0, "order_locked": False, "handed_off": False}
    return Tracker(sender, {**base_slots, **(slots or {})}, latest, events, False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def slot_events(events: List[Dict]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
