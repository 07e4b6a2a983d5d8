"""The widget's outbox in Redis, shared by every Rasa replica (issue #15).

Same contract as ``bot.channels.outbox.Outbox`` (numbered per conversation, replayable after a
reconnect, resends recognised by their client id, bounded by count, bytes and age), but the
numbering happens in Redis: a bot reply produced on one replica, an agent message sent through
another and a follow-up from a third get consecutive numbers, exactly once, in order, and a
shopper connected anywhere replays them. ``epoch`` only changes when the conversation's log is
gone (expired), so a replica restart does not make clients start over.

One Lua script per append: the number, the resend check, the trim and the expiry happen together.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

from bot.channels.outbox import SENDERS, Entry, Replay

# KEYS: log (list of "size|json"), meta (hash: next, epoch, bytes), cids (hash: cid -> "size|json")
# ARGV: sender, message json, cid json ("null" or a JSON string), cid ("" if none), now,
#       max_entries, max_bytes, ttl seconds, new epoch
_APPEND = """
if ARGV[4] ~= '' then
  local seen = redis.call('HGET', KEYS[3], ARGV[4])
  if seen then return {0, seen} end
end
redis.call('HSETNX', KEYS[2], 'epoch', ARGV[9])
local epoch = redis.call('HGET', KEYS[2], 'epoch')
local seq = redis.call('HINCRBY', KEYS[2], 'next', 1)
local size = string.len(ARGV[2])
local item = size .. '|{"seq":' .. seq .. ',"sender":"' .. ARGV[1] .. '","at":' .. ARGV[5] ..
  ',"epoch":"' .. epoch .. '","cid":' .. ARGV[3] .. ',"message":' .. ARGV[2] .. '}'
redis.call('RPUSH', KEYS[1], item)
if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], ARGV[4], item) end
local bytes = redis.call('HINCRBY', KEYS[2], 'bytes', size)
local count = redis.call('LLEN', KEYS[1])
while count > 1 and (count > tonumber(ARGV[6]) or bytes > tonumber(ARGV[7])) do
  local old = redis.call('LPOP', KEYS[1])
  local bar = string.find(old, '|', 1, true)
  bytes = redis.call('HINCRBY', KEYS[2], 'bytes', -tonumber(string.sub(old, 1, bar - 1)))
  local cid = cjson.decode(string.sub(old, bar + 1)).cid
  if type(cid) == 'string' then redis.call('HDEL', KEYS[3], cid) end
  count = count - 1
end
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[8]) end
return {1, item}
"""


def _entry(item: bytes) -> Entry:
    data = json.loads(item.split(b"|", 1)[1])
    return Entry(int(data["seq"]), data["sender"], data["message"], float(data["at"]), data["epoch"], data.get("cid"))


class RedisOutbox:
    """Ordered, bounded message logs in Redis, one per conversation id, shared by all replicas."""

    def __init__(self, url: str, *, prefix: str = "shouhou:outbox:", max_entries: int = 500,
                 max_bytes: int = 256 * 1024, max_age: float = 7 * 86400,
                 clock: Callable[[], float] = time.time) -> None:
        import redis

        if min(max_entries, max_bytes, max_age) <= 0:
            raise ValueError("bounds must be positive")
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError
        from redis.retry import Retry

        # a Redis restart (a second or two) is waited out, not turned into a lost message
        self.red = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2,
                                        retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), 8),
                                        retry_on_error=[RedisConnectionError, RedisTimeoutError])
        self.prefix, self.max_entries, self.max_bytes, self.max_age = prefix, max_entries, max_bytes, max_age
        self._clock = clock
        self._append = self.red.register_script(_APPEND)

    def _keys(self, conversation_id: str) -> List[str]:
        base = f"{self.prefix}{conversation_id}"
        return [f"{base}:log", f"{base}:meta", f"{base}:cids"]

    def append(self, conversation_id: str, sender: str, message: Dict[str, Any],
               cid: Optional[str] = None) -> Tuple[Entry, bool]:
        """Add a message; returns (entry, created). A repeated ``cid`` returns the stored entry."""
        if sender not in SENDERS:
            raise ValueError(f"unknown sender {sender!r}")
        body = json.dumps(dict(message), ensure_ascii=False, default=str)
        created, item = self._append(
            keys=self._keys(conversation_id),
            args=[sender, body, json.dumps(cid) if cid else "null", cid or "", repr(self._clock()),
                  self.max_entries, self.max_bytes, int(self.max_age), uuid.uuid4().hex[:12]],
        )
        return _entry(item), bool(created)

    def has_cid(self, conversation_id: str, cid: str) -> bool:
        return bool(self.red.hexists(self._keys(conversation_id)[2], cid))

    def open(self, conversation_id: str) -> str:
        """Start the conversation's log if there is none; returns its epoch."""
        _, meta, _ = self._keys(conversation_id)
        self.red.hsetnx(meta, "epoch", uuid.uuid4().hex[:12])
        self.red.expire(meta, int(self.max_age))
        return self.red.hget(meta, "epoch").decode()

    def since(self, conversation_id: str, after_seq: int = 0, epoch: Optional[str] = None) -> Replay:
        """Entries with seq > ``after_seq``, oldest first; all of them if ``epoch`` is not the log's."""
        log, meta, _ = self._keys(conversation_id)
        with self.red.pipeline(transaction=True) as pipe:
            items, (known_epoch, next_seq) = pipe.lrange(log, 0, -1).hmget(meta, "epoch", "next").execute()
        if known_epoch is None:
            return Replay([], 0, False, "")
        known_epoch, last = known_epoch.decode(), int(next_seq or 0)
        if epoch is not None and epoch != known_epoch:
            after_seq = 0
        too_old = self._clock() - self.max_age
        kept = [e for e in map(_entry, items) if e.at >= too_old]
        first_kept = kept[0].seq if kept else last + 1
        return Replay([e for e in kept if e.seq > after_seq], last, first_kept > after_seq + 1, known_epoch)

    def last_seq(self, conversation_id: str) -> int:
        return int(self.red.hget(self._keys(conversation_id)[1], "next") or 0)

    def __contains__(self, conversation_id: object) -> bool:
        return bool(self.red.exists(self._keys(str(conversation_id))[1]))
