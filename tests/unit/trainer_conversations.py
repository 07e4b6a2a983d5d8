"""Recorded conversations in a real Rasa SQLTrackerStore (SQLite file), for trainer tests."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import List, Sequence, Tuple

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[2]


def parse(intent: str, confidence: float, second: Tuple[str, float] = ("out_of_scope", 0.01),
          entities: Sequence[dict] = (), fallback: bool = False) -> dict:
    """parse_data as the served pipeline stores it (nlu_fallback on top when it fell back)."""
    ranking = [{"name": intent, "confidence": confidence}, {"name": second[0], "confidence": second[1]}]
    top = {"name": "nlu_fallback", "confidence": 0.3} if fallback else ranking[0]
    return {"intent": top, "entities": list(entities),
            "intent_ranking": ([top] if fallback else []) + ranking}


def store(path: Path) -> SQLTrackerStore:
    return SQLTrackerStore(Domain.load(str(ROOT / "domain.yml")), dialect="sqlite", db=str(path))


def record(tracker_store: SQLTrackerStore, sender: str, turns: List[tuple], start: float = None) -> None:
    """turns: ("user", text, parse_data) | ("bot", text) | ("action", name), one second apart."""
    now = start or time.time() - 60
    events = [ActionExecuted("action_session_start", timestamp=now), ActionExecuted("action_listen", timestamp=now)]
    for n, turn in enumerate(turns, start=1):
        at = now + n
        if turn[0] == "user":
            events.append(UserUttered(turn[1], turn[2]["intent"], turn[2]["entities"], turn[2], timestamp=at))
        elif turn[0] == "bot":
            events.append(BotUttered(turn[1], timestamp=at))
        else:
            events.append(ActionExecuted(turn[1], timestamp=at))
    tracker = DialogueStateTracker.from_events(sender, events)
    asyncio.run(tracker_store.save(tracker))
