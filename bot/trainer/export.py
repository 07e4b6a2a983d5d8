"""One real conversation, from the tracker store, as a conversation test ``rasa test`` replays.

The story keeps what happened: each shopper message with the intent the bot read (entities as
``[text](entity)``), each action the bot ran, the slots that were set and the forms that were
active (``rasa test core`` does not call the action server, so what actions set is spelled out as
``slot_was_set``, as in tests/conversations/). Personal data becomes the same placeholders the
training data uses, so a test file can be committed. Housekeeping actions (listening, session
start) are left out, as a person writing the test would.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString
from sqlalchemy import text as sql
from sqlalchemy.engine import Engine

from bot.store import db
from bot.trainer import privacy

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_ACTIONS = {"action_listen", "action_session_start", "action_extract_slots", "action_unlikely_intent"}


def events_of(tracker: Union[Engine, str, None], conversation_id: str) -> List[Dict[str, Any]]:
    """The stored events of one conversation (Rasa's JSON form), oldest first."""
    engine = tracker if isinstance(tracker, Engine) else db.make_engine(tracker)
    with engine.connect() as connection:
        rows = connection.execute(sql("SELECT data FROM events WHERE sender_id = :cid ORDER BY id"),
                                  {"cid": conversation_id})
        return [json.loads(row.data) for row in rows]


def _annotated(message: str, entities: List[Dict[str, Any]]) -> str:
    """The message with its spanned entities as ``[text](entity)``, placeholders for personal data."""
    out, at = [], 0
    spans = sorted((e for e in entities if e.get("start") is not None and e.get("end") is not None),
                   key=lambda e: e["start"])
    for entity in spans:
        if entity["start"] < at:
            continue  # two extractors found the same span: keep the first
        out.append(privacy.placeholders(message[at:entity["start"]]))
        out.append(f"[{privacy.placeholders(message[entity['start']:entity['end']])}]({entity['entity']})")
        at = entity["end"]
    out.append(privacy.placeholders(message[at:]))
    return "".join(out)


def _value(value: Any) -> Any:
    return privacy.placeholders(value) if isinstance(value, str) else value


def steps(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The story steps of a conversation's events."""
    out: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") or {}
            intent = (parse.get("intent") or {}).get("name")
            if not intent or event.get("text") is None or str(event["text"]).startswith("/"):
                continue
            out.append({"user": LiteralScalarString(_annotated(event["text"], parse.get("entities") or []) + "\n"),
                        "intent": intent})
        elif kind == "action" and event.get("name") not in SKIPPED_ACTIONS:
            out.append({"action": event["name"]})
        elif kind == "slot" and out:  # slots set before the first message are the session's defaults
            out.append({"slot_was_set": [{event["name"]: _value(event.get("value"))}]})
        elif kind == "active_loop" and out:
            out.append({"active_loop": event.get("name")})
    return out


def story(events: List[Dict[str, Any]], name: str) -> str:
    """A whole conversation-test file (version 3.1) with one story."""
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    buffer = io.StringIO()
    buffer.write('version: "3.1"\n# Exported from a real conversation by the trainer (bot/trainer/export.py).\n')
    yaml.dump({"stories": [{"story": name, "steps": steps(events)}]}, buffer)
    return buffer.getvalue()


def export(tracker: Union[Engine, str, None], conversation_id: str, name: Optional[str] = None,
           folder: Path = ROOT / "tests" / "conversations") -> Path:
    """Write ``folder/test_export_<id>.yml`` and return its path."""
    events = events_of(tracker, conversation_id)
    if not any(e.get("event") == "user" for e in events):
        raise KeyError(f"no messages in conversation {conversation_id!r}")
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", conversation_id)[:60]
    path = Path(folder) / f"test_export_{slug}.yml"
    path.write_text(story(events, name or f"exported conversation {conversation_id}"), encoding="utf-8")
    return path
