"""Conversations kept in the shop's own database, so restarting a server forgets nothing.

``ShopTrackerStore`` is Rasa's SQL tracker store (table ``events``, one row per event) on
the database ``bot.store.db`` chooses: the SQLite file by default, PostgreSQL through
``DATABASE_URL``. It uses the project's engine (the connection pool, SQLite's WAL and busy
timeout, PostgreSQL's pre-ping, so a database that comes back is used again without a
restart). Events are stored with personal numbers masked (``bot.privacy``).

Rasa wraps every tracker store in a ``FailSafeTrackerStore`` that, when the database fails,
logs an error and quietly keeps the conversation in memory: the shopper is answered, then
everything said is lost at the next restart, and a later turn reads an older tracker from
the database. ``bot.resilience`` removes that wrapper: a database failure fails the turn,
which the shopper is told about (an apology and the offer of a human), and the next turn
after the database is back continues from what was stored.

Configured in ``endpoints.yml``::

    tracker_store:
      type: bot.tracker_store.ShopTrackerStore
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from typing import Any, Dict, Iterator, Optional, Text

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event, insert, text
from sqlalchemy.orm import sessionmaker

from bot.privacy import mask_personal
from bot.store.db import database_url, make_engine

logger = logging.getLogger(__name__)


def _masked(value: Any) -> Any:
    """A JSON value with personal numbers masked in every string (keys stay as they are)."""
    if isinstance(value, str):
        return mask_personal(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


# Rasa's SQLTrackerStore queries (events of the latest session: from its last session_started on)
_SESSION_START = (
    "(SELECT max(timestamp) FROM events WHERE sender_id = :sender AND type_name = 'session_started')"
)
_LATEST_SESSION = (
    f"FROM events WHERE sender_id = :sender AND ({_SESSION_START} IS NULL OR timestamp >= {_SESSION_START})"
)
_ALL_SESSIONS = "FROM events WHERE sender_id = :sender"

_EVENT_TYPES: Dict[str, Any] = {}


def _resolve_by_type(type_name: Text, default: Optional[Any] = None) -> Optional[Any]:
    """Rasa's ``Event.resolve_by_type``, remembered per name.

    Rasa walks every subclass of ``Event`` (with ``inspect.isabstract`` on each) for every
    event it reads: profiled, 80 % of reading a stored conversation. The classes do not
    change once loaded, so a found one is kept; anything else asks Rasa's own function.
    """
    found = _EVENT_TYPES.get(type_name)
    if found is None:
        found = _RASA_RESOLVE(type_name, default)
        if found is not None and found is not default:
            _EVENT_TYPES[type_name] = found
    return found


_RASA_RESOLVE = Event.resolve_by_type
Event.resolve_by_type = staticmethod(_resolve_by_type)  # type: ignore[assignment]


def _no_fsync_per_commit(dbapi_connection: Any, _record: Any) -> None:
    """SQLite in WAL mode: a commit survives a crash of the process (the promise here) without
    an fsync per turn; only a power cut may lose the last turns. Profiled: the fsync was a
    quarter of a turn's save."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class ShopTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store on the project's database and engine (see the module docstring)."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        url: Optional[Text] = None,
        **kwargs: Dict[Text, Any],
    ) -> None:
        self.engine = make_engine(database_url(url or host))
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _no_fsync_per_commit)
        self.sessionmaker = sessionmaker(bind=self.engine)
        self._schema_lock = threading.Lock()
        self._schema_ready = False
        try:
            self._ensure_schema()
        except Exception as error:  # the database is down now: tables are made on first use
            logger.error(
                "tracker store: database not reachable at start (%s); will retry", type(error).__name__
            )
        TrackerStore.__init__(self, domain, event_broker, **kwargs)

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if not self._schema_ready:
                self.Base.metadata.create_all(self.engine)
                self._schema_ready = True

    def session_scope(self) -> Any:
        self._ensure_schema()
        return super().session_scope()

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events with personal numbers masked (one transaction per turn)."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):
                data = _masked(event.as_dict())
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": (data.get("parse_data", {}).get("intent") or {}).get("name"),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:  # one multi-row insert, no ORM objects (profiled: they were a third of a save)
                session.execute(insert(self.SQLEvent.__table__), rows)
            session.commit()

    async def _retrieve(
        self, sender_id: Text, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        """Rasa's query as plain SQL, reading only the ``data`` column (profiled: building the
        ORM query and an object per event were most of a read)."""
        where = _ALL_SESSIONS if fetch_events_from_all_sessions else _LATEST_SESSION
        with self.session_scope() as session:
            rows = (
                session.execute(text(f"SELECT data {where} ORDER BY id"), {"sender": sender_id})
                .scalars()
                .all()
            )
        if not (self.domain and rows):
            return None
        return DialogueStateTracker.from_dict(sender_id, [json.loads(r) for r in rows], self.domain.slots)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Any]:
        """The tracker's events not stored yet (those after the stored ones of the latest session)."""
        stored = session.execute(
            text(f"SELECT count(*) {_LATEST_SESSION}"), {"sender": tracker.sender_id}
        ).scalar()
        return itertools.islice(tracker.events, stored, len(tracker.events))
