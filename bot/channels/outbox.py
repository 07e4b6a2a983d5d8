"""Per-conversation message log with sequence numbers: what the widget replays on reconnect.

Every message shown in a conversation (shopper, bot, agent, system) is appended here and
gets the next sequence number of its conversation. A client that reconnects says the last
number it has and receives the rest, in order; a reloaded page asks from 0 and gets the
history. ``epoch`` changes with every new log (a process start, or a conversation
forgotten and started again), so a client that remembers numbers from an older log knows
they no longer mean anything and asks for everything.

Plain Python, no Rasa: one lock guards all state and is never held across an ``await``, so
it is safe from threads and from coroutines alike. Bounded: at most ``max_entries`` and
``max_bytes`` (the JSON size of the messages) per conversation and nothing older than
``max_age`` seconds (oldest dropped first), at most ``max_conversations`` and
``max_total_bytes`` over all (least recently active dropped first). A conversation whose
older messages were dropped is rebuilt from the tracker store when asked for from the start.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

SENDERS = ("user", "bot", "agent", "system")


@dataclass(frozen=True)
class Entry:
    """One message of one conversation, as the widget receives it."""

    seq: int
    sender: str
    message: Dict[str, Any]
    at: float
    epoch: str
    cid: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        data = {
            "seq": self.seq,
            "sender": self.sender,
            "message": self.message,
            "at": self.at,
            "epoch": self.epoch,
        }
        if self.cid:
            data["cid"] = self.cid
        return data


@dataclass
class _Log:
    entries: Deque[Entry]
    epoch: str
    next_seq: int = 1
    by_cid: Dict[str, Entry] = field(default_factory=dict)
    sizes: Deque[int] = field(default_factory=deque)
    bytes: int = 0


@dataclass(frozen=True)
class Replay:
    """The entries after a client's last seq; ``truncated`` when older ones were dropped."""

    entries: List[Entry]
    last_seq: int
    truncated: bool
    epoch: str


class Outbox:
    """Ordered, bounded message logs, one per conversation id."""

    def __init__(
        self,
        max_conversations: int = 10_000,
        max_entries: int = 500,
        clock: Callable[[], float] = time.time,
        max_bytes: int = 256 * 1024,
        max_total_bytes: int = 256 * 1024 * 1024,
        max_age: float = 7 * 86400,
    ) -> None:
        if min(max_conversations, max_entries, max_bytes, max_total_bytes, max_age) <= 0:
            raise ValueError("bounds must be positive")
        self.max_conversations = max_conversations
        self.max_entries = max_entries
        self.max_bytes, self.max_total_bytes, self.max_age = max_bytes, max_total_bytes, max_age
        self._total_bytes = 0
        self._instance = uuid.uuid4().hex[:8]
        self._logs_made = itertools.count(1)
        self._clock = clock
        self._logs: "OrderedDict[str, _Log]" = OrderedDict()
        self._lock = threading.Lock()

    def append(
        self, conversation_id: str, sender: str, message: Dict[str, Any], cid: Optional[str] = None
    ) -> Tuple[Entry, bool]:
        """Add a message; returns (entry, created).

        A repeated ``cid`` (client message id: a message resent after a dropped
        connection) returns the entry already stored and ``created=False``.
        """
        if sender not in SENDERS:
            raise ValueError(f"unknown sender {sender!r}")
        with self._lock:
            log = self._log_for(conversation_id)
            if cid and cid in log.by_cid:
                return log.by_cid[cid], False
            entry = Entry(log.next_seq, sender, dict(message), self._clock(), log.epoch, cid)
            size = len(json.dumps(entry.message, ensure_ascii=False, default=str).encode("utf-8"))
            log.next_seq += 1
            log.entries.append(entry)
            log.sizes.append(size)
            log.bytes += size
            self._total_bytes += size
            if cid:
                log.by_cid[cid] = entry
            self._trim(log, keep_last=True)
            while self._total_bytes > self.max_total_bytes and len(self._logs) > 1:
                self._forget_oldest()
            return entry, True

    def has_cid(self, conversation_id: str, cid: str) -> bool:
        """Whether the client message ``cid`` is already stored (a resend, not a new message)."""
        with self._lock:
            log = self._logs.get(conversation_id)
            return bool(log and cid in log.by_cid)

    def _trim(self, log: _Log, keep_last: bool = False) -> None:
        """Drop the log's oldest entries beyond its count, size and age bounds (caller holds the lock)."""
        too_old = self._clock() - self.max_age
        floor = 1 if keep_last else 0
        while len(log.entries) > floor and (
            len(log.entries) > self.max_entries or log.bytes > self.max_bytes or log.entries[0].at < too_old
        ):
            dropped = log.entries.popleft()
            size = log.sizes.popleft()
            log.bytes -= size
            self._total_bytes -= size
            if dropped.cid:
                log.by_cid.pop(dropped.cid, None)

    def _forget_oldest(self) -> None:
        _, log = self._logs.popitem(last=False)
        self._total_bytes -= log.bytes

    def open(self, conversation_id: str) -> str:
        """Start the conversation's log if there is none (a client joined it); returns its epoch."""
        with self._lock:
            return self._log_for(conversation_id).epoch

    def since(self, conversation_id: str, after_seq: int = 0, epoch: Optional[str] = None) -> Replay:
        """Entries with seq > ``after_seq``, oldest first; all of them if ``epoch`` is not the log's."""
        with self._lock:
            log = self._logs.get(conversation_id)
            if log is None:
                return Replay([], 0, False, "")
            if epoch is not None and epoch != log.epoch:
                after_seq = 0
            self._trim(log)
            entries = [e for e in log.entries if e.seq > after_seq]
            first_kept = log.entries[0].seq if log.entries else log.next_seq
            return Replay(entries, log.next_seq - 1, first_kept > after_seq + 1, log.epoch)

    def last_seq(self, conversation_id: str) -> int:
        with self._lock:
            log = self._logs.get(conversation_id)
            return log.next_seq - 1 if log else 0

    def __contains__(self, conversation_id: object) -> bool:
        with self._lock:
            return conversation_id in self._logs

    def __len__(self) -> int:
        with self._lock:
            return len(self._logs)

    def _log_for(self, conversation_id: str) -> _Log:
        """The conversation's log, marked most recently active (caller holds the lock)."""
        log = self._logs.get(conversation_id)
        if log is None:
            log = _Log(deque(), f"{self._instance}-{next(self._logs_made)}")
            self._logs[conversation_id] = log
            while len(self._logs) > self.max_conversations:
                self._forget_oldest()
        else:
            self._logs.move_to_end(conversation_id)
        return log
