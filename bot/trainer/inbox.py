"""The trainer's inbox: the messages the bot really misunderstood, read from the tracker store.

An item is a user message that
- fell under the FallbackClassifier's threshold, or whose two best intents are closer than its
  ambiguity threshold (both read from config.yml, so the inbox follows the served settings);
- came just before a handoff (``action_handoff`` ran after it) or before a rating of 1 or 2;
- an agent flagged from the console.

Messages with the same normalised text are one item with a count. Reading is on demand, straight
from Rasa's ``events`` table (SQLTrackerStore) and the shop's ``ratings``: a message is in the
inbox as soon as Rasa has stored it, with no job in between (the issue asks for a minute). Once a
trainer annotates or discards an item, ``trainer_items`` remembers its key and it disappears.
Texts are masked for the screen (length kept, so entity spans still index the original).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from ruamel.yaml import YAML
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine

from bot.store import db
from bot.store import models as m
from bot.trainer import privacy, writer

ROOT = Path(__file__).resolve().parents[2]
HANDOFF_ACTION = "action_handoff"
FALLBACK_INTENT = "nlu_fallback"
LOW_RATING = 2
CONTEXT_BEFORE, CONTEXT_AFTER = 4, 2


@dataclass(frozen=True)
class Thresholds:
    """The FallbackClassifier's settings: below ``fallback`` or within ``ambiguity`` is doubtful."""

    fallback: float = 0.3
    ambiguity: float = 0.05


def thresholds(config: Path = ROOT / "config.yml") -> Thresholds:
    """Read from the served config, so the inbox and the bot agree on what "unsure" means."""
    data = YAML(typ="safe").load(Path(config).read_text(encoding="utf-8")) or {}
    for component in data.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return Thresholds(float(component.get("threshold", 0.3)), float(component.get("ambiguity_threshold", 0.1)))
    return Thresholds()


def item_key(message: str) -> str:
    """Items are keyed by the normalised text: duplicates share one key."""
    return hashlib.sha1(privacy.normalise(message).encode("utf-8")).hexdigest()[:16]


def reading(parse_data: Dict[str, Any]) -> Dict[str, Any]:
    """The model's own best guess (behind nlu_fallback) and the two best confidences."""
    ranking = [r for r in parse_data.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    top = parse_data.get("intent") or {}
    if not ranking and top.get("name") and top.get("name") != FALLBACK_INTENT:
        ranking = [top]
    first = ranking[0] if ranking else {"name": None, "confidence": 0.0}
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    return {"intent": first.get("name"), "confidence": float(first.get("confidence") or 0.0),
            "second": float(second or 0.0), "fell_back": top.get("name") == FALLBACK_INTENT}


def _engine(where: Union[Engine, str, None]) -> Engine:
    return where if isinstance(where, Engine) else db.make_engine(where)


def _epoch(when: datetime) -> float:
    return when.replace(tzinfo=timezone.utc).timestamp() if when.tzinfo is None else when.timestamp()


class Inbox:
    """Items from the tracker store's events (``tracker``) and the shop database (``shop``)."""

    def __init__(self, tracker: Union[Engine, str, None] = None, shop: Union[Engine, str, None] = None,
                 project: Path = ROOT, config: Optional[Path] = None) -> None:
        self.tracker = _engine(tracker)
        self.shop = self.tracker if shop is None and tracker is not None else _engine(shop)
        self.project = Path(project)
        self.limits = thresholds(config or self.project / "config.yml")
        self.sessions = db.session_factory(self.shop)

    # ---- reading ------------------------------------------------------------------------

    def conversations(self, since_days: float = 30) -> Dict[str, List[Dict[str, Any]]]:
        """Every conversation's user and bot turns and actions, oldest first."""
        if not inspect(self.tracker).has_table("events"):
            raise LookupError("the tracker store has no 'events' table: the inbox reads Rasa's SQL tracker store "
                              "(endpoints.yml tracker_store type SQL) on this database")
        since = time.time() - since_days * 86400
        query = text("SELECT id, sender_id, type_name, timestamp, action_name, data FROM events "
                     "WHERE type_name IN ('user', 'bot', 'action') AND timestamp >= :since ORDER BY id")
        out: Dict[str, List[Dict[str, Any]]] = {}
        with self.tracker.connect() as connection:
            for row in connection.execute(query, {"since": since}):
                data = json.loads(row.data or "{}")
                out.setdefault(row.sender_id, []).append({
                    "event_id": row.id, "type": row.type_name, "timestamp": row.timestamp,
                    "action": row.action_name, "text": data.get("text"),
                    "parse_data": data.get("parse_data") or {}})
        return out

    def items(self, since_days: float = 30, limit: int = 200) -> List[Dict[str, Any]]:
        """Open items, the most frequent and most recent first."""
        return [self._public(i) for i in self._collect(since_days)[:limit]]

    def item(self, item_id: str, since_days: float = 30) -> Optional[Dict[str, Any]]:
        found = [i for i in self._collect(since_days) if i["id"] == item_id]
        return self._public(found[0]) if found else None

    def _collect(self, since_days: float) -> List[Dict[str, Any]]:
        conversations = self.conversations(since_days)
        handled = self._handled()
        groups: Dict[str, Dict[str, Any]] = {}
        for cid, events in conversations.items():
            for index, reasons in self._selected(cid, events).items():
                self._add(groups, handled, cid, events, index, reasons)
        for flag in self._flags():
            events = conversations.get(flag.conversation_id, [])
            index = next((i for i in range(len(events) - 1, -1, -1) if events[i]["type"] == "user"
                          and privacy.normalise(events[i]["text"] or "") == privacy.normalise(flag.text)), None)
            if index is None:
                events = [{"event_id": None, "type": "user", "text": flag.text, "parse_data": {},
                           "timestamp": _epoch(flag.created_at)}]
                index = 0
            self._add(groups, handled, flag.conversation_id, events, index, {"flagged"})
        return sorted(groups.values(), key=lambda g: (-g["count"], -g["last_seen"]))

    def _selected(self, cid: str, events: List[Dict[str, Any]]) -> Dict[int, set]:
        """Index of each doubtful user message of one conversation -> its reasons."""
        picked: Dict[int, set] = {}
        last_user = None
        for index, event in enumerate(events):
            if event["type"] == "user":
                last_user = index
                guess = reading(event["parse_data"])
                if guess["fell_back"] or guess["confidence"] < self.limits.fallback:
                    picked.setdefault(index, set()).add("low_confidence")
                elif guess["second"] and guess["confidence"] - guess["second"] < self.limits.ambiguity:
                    picked.setdefault(index, set()).add("ambiguous")
            elif event["type"] == "action" and event["action"] == HANDOFF_ACTION and last_user is not None:
                picked.setdefault(last_user, set()).add("before_handoff")
        for rating in self._low_ratings(cid):
            before = [i for i, e in enumerate(events) if e["type"] == "user" and e["timestamp"] <= rating + 1]
            if before:
                picked.setdefault(before[-1], set()).add("before_low_rating")
        return picked

    def _add(self, groups: Dict[str, Dict[str, Any]], handled: set, cid: str,
             events: List[Dict[str, Any]], index: int, reasons: set) -> None:
        event = events[index]
        raw = event["text"] or ""
        key = item_key(raw)
        if key in handled or not privacy.normalise(raw):
            return
        group = groups.get(key)
        if group is None:
            group = groups[key] = {"id": key, "count": 0, "reasons": set(), "conversations": [],
                                   "last_seen": 0.0, "raw": raw}
        group["count"] += 1
        group["reasons"] |= reasons
        if cid not in group["conversations"]:
            group["conversations"].append(cid)
        if (event["timestamp"] or 0) >= group["last_seen"]:
            guess = reading(event["parse_data"])
            group.update(raw=raw, last_seen=event["timestamp"] or 0.0, conversation_id=cid,
                         event_id=event["event_id"], intent=guess["intent"], confidence=guess["confidence"],
                         entities=[self._entity(e) for e in event["parse_data"].get("entities") or []],
                         context=self._context(events, index))

    @staticmethod
    def _entity(entity: Dict[str, Any]) -> Dict[str, Any]:
        return {"entity": entity.get("entity"), "start": entity.get("start"), "end": entity.get("end"),
                "value": privacy.mask_for_screen(str(entity.get("value", "")))}

    @staticmethod
    def _context(events: List[Dict[str, Any]], index: int) -> List[Dict[str, Any]]:
        """A few turns either side, as the shopper saw them, with the NLU's reading of theirs."""
        turns = [(i, e) for i, e in enumerate(events) if e["type"] in ("user", "bot") and e["text"]]
        position = next((p for p, (i, _) in enumerate(turns) if i == index), 0)
        out = []
        for i, event in turns[max(0, position - CONTEXT_BEFORE): position + CONTEXT_AFTER + 1]:
            turn = {"speaker": event["type"], "text": privacy.mask_for_screen(event["text"]), "this": i == index}
            if event["type"] == "user":
                guess = reading(event["parse_data"])
                turn.update(intent=guess["intent"], confidence=guess["confidence"])
            out.append(turn)
        return out

    @staticmethod
    def _public(group: Dict[str, Any]) -> Dict[str, Any]:
        item = {k: v for k, v in group.items() if k != "raw"}
        item["text"] = privacy.mask_for_screen(group["raw"])
        item["reasons"] = sorted(group["reasons"])
        item["last_seen"] = datetime.fromtimestamp(group["last_seen"], timezone.utc).isoformat()
        return item

    # ---- conversation review ---------------------------------------------------------------

    def conversation(self, conversation_id: str) -> List[Dict[str, Any]]:
        """One conversation as the shopper saw it, with the NLU's reading of each message (masked)."""
        events = self.conversations(since_days=3650).get(conversation_id, [])
        turns = []
        for event in events:
            if event["type"] == "action" and event["action"] == HANDOFF_ACTION:
                turns.append({"speaker": "handoff", "text": None, "at": event["timestamp"]})
            elif event["type"] in ("user", "bot") and event["text"]:
                turn = {"speaker": event["type"], "text": privacy.mask_for_screen(event["text"]),
                        "at": event["timestamp"]}
                if event["type"] == "user":
                    guess = reading(event["parse_data"])
                    turn.update(intent=guess["intent"], confidence=guess["confidence"], fell_back=guess["fell_back"])
                turns.append(turn)
        return turns

    def search(self, handed_off: Optional[bool] = None, fell_back: Optional[bool] = None,
               max_rating: Optional[int] = None, intent: Optional[str] = None,
               since: Optional[float] = None, until: Optional[float] = None) -> List[Dict[str, Any]]:
        """Conversations filtered as the review page needs, newest first (times are epoch seconds)."""
        ratings: Dict[str, int] = {}
        with self.sessions() as session:
            for cid, score in session.execute(select(m.RatingRow.conversation_id, m.RatingRow.score)):
                ratings[cid] = min(score, ratings.get(cid, score))
        out = []
        for cid, events in self.conversations(since_days=3650).items():
            users = [e for e in events if e["type"] == "user"]
            if not users:
                continue
            readings = [reading(e["parse_data"]) for e in users]
            summary = {"conversation_id": cid, "started": events[0]["timestamp"], "last": events[-1]["timestamp"],
                       "messages": len(users), "rating": ratings.get(cid),
                       "handed_off": any(e["type"] == "action" and e["action"] == HANDOFF_ACTION for e in events),
                       "fell_back": any(r["fell_back"] for r in readings),
                       "intents": sorted({r["intent"] for r in readings if r["intent"]})}
            if ((handed_off is not None and summary["handed_off"] != handed_off)
                    or (fell_back is not None and summary["fell_back"] != fell_back)
                    or (max_rating is not None and (summary["rating"] is None or summary["rating"] > max_rating))
                    or (intent is not None and intent not in summary["intents"])
                    or (since is not None and summary["last"] < since)
                    or (until is not None and summary["started"] > until)):
                continue
            out.append(summary)
        return sorted(out, key=lambda c: -c["last"])

    # ---- the shop database ----------------------------------------------------------------

    def _handled(self) -> set:
        with self.sessions() as session:
            return set(session.scalars(select(m.TrainerItemRow.key)))

    def _flags(self) -> List[Any]:
        with self.sessions() as session:
            return list(session.scalars(select(m.TrainerFlagRow).order_by(m.TrainerFlagRow.id)))

    def _low_ratings(self, cid: str) -> List[float]:
        with self.sessions() as session:
            rows = session.scalars(select(m.RatingRow.created_at).where(
                m.RatingRow.conversation_id == cid, m.RatingRow.score <= LOW_RATING))
            return [_epoch(r) for r in rows]

    # ---- what trainers and agents do -----------------------------------------------------

    def flag(self, conversation_id: str, message: str, agent: str, note: str = "") -> int:
        """An agent sends a message of a conversation to the trainers."""
        with self.sessions() as session, session.begin():
            row = m.TrainerFlagRow(conversation_id=conversation_id, text=message, flagged_by=agent,
                                   note=note or "", created_at=datetime.utcnow())
            session.add(row)
        return row.id

    def annotate(self, item_id: str, intent: str, entities: Sequence[Dict[str, Any]], trainer: str,
                 message: str = "", email: Optional[str] = None) -> writer.SaveResult:
        """Save the item as an example of ``intent`` (see ``writer.save``), then close it.

        Entity spans index the text the inbox showed (same length as the original). An example
        the data already has under the same intent closes the item too; under another intent it
        is refused with the reason, as a validation failure is.
        """
        group = next((g for g in self._collect(3650) if g["id"] == item_id), None)
        if group is None:
            raise KeyError(item_id)
        result = writer.save(self.project, [writer.Correction(group["raw"], intent, list(entities))],
                             trainer=trainer, message=message, email=email)
        if result.skipped and result.skipped[0][1] != f"already an example of {intent}":
            raise writer.SaveRefused(result.skipped[0][1])
        self._close(item_id, "annotated", trainer, intent, result.commit)
        return result

    def discard(self, item_id: str, trainer: str) -> None:
        """Nothing to learn from it: hide it (and its duplicates) for good."""
        self._close(item_id, "discarded", trainer, None, None)

    def _close(self, key: str, state: str, actor: str, intent: Optional[str], commit: Optional[str]) -> None:
        with self.sessions() as session, session.begin():
            session.merge(m.TrainerItemRow(key=key, state=state, actor=actor, intent=intent, commit=commit,
                                           handled_at=datetime.utcnow()))
