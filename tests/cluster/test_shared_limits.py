"""Rate limits shared by the replicas through Redis (issue #15, "Left" of issue #11's limits).

The balancer spreads one client's requests over the replicas; counted per process, a flooding
client would get the limit once per replica. With ``REDIS_URL`` every replica counts in the
same sorted sets, atomically (one Lua script checks and counts all keys of an event).
"""

from __future__ import annotations

import time
import uuid

from bot.limits import Limits
from bot.settings import LimitSettings
from tests.cluster.conftest import free_port


def _settings(**overrides) -> LimitSettings:
    return LimitSettings(**{"messages_per_minute_conversation": 100, "messages_per_minute_client": 5,
                            "uploads_per_minute_client": 2, **overrides})


def test_two_replicas_share_one_client_limit(redis_port):
    url = f"redis://127.0.0.1:{redis_port}/0"
    one, two = Limits(_settings(), redis_url=url), Limits(_settings(), redis_url=url)
    client = "203.0.113." + uuid.uuid4().hex[:4]
    answers = [(one if n % 2 else two).message(f"c-{n}", client) for n in range(10)]
    assert answers == [True] * 5 + [False] * 5  # five in all, not five per replica
    # another address is not slowed by the flood
    assert one.message("c-x", "198.51.100.9") and two.message("c-y", "198.51.100.9")


def test_a_conversation_limit_is_shared_and_a_refused_message_counts_nowhere(redis_port):
    url = f"redis://127.0.0.1:{redis_port}/0"
    settings = _settings(messages_per_minute_conversation=3, messages_per_minute_client=4)
    one, two = Limits(settings, redis_url=url), Limits(settings, redis_url=url)
    conversation, client = "web-" + uuid.uuid4().hex, "192.0.2." + uuid.uuid4().hex[:4]
    assert [one.message(conversation, client), two.message(conversation, client),
            one.message(conversation, client), two.message(conversation, client)] == [True, True, True, False]
    # the refused fourth message was not counted under the address: one more conversation fits
    assert one.message("web-other", client) and not two.message("web-third", client)


def test_uploads_are_limited_across_replicas(redis_port):
    url = f"redis://127.0.0.1:{redis_port}/0"
    one, two = Limits(_settings(), redis_url=url), Limits(_settings(), redis_url=url)
    client = "203.0.113." + uuid.uuid4().hex[:4]
    assert [one.upload(client), two.upload(client), one.upload(client)] == [True, True, False]


def test_without_redis_each_process_counts_for_itself_and_nobody_waits():
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    limits = Limits(_settings(), redis_url=dead)
    start = time.monotonic()
    answers = [limits.message(f"c-{n}", "203.0.113.1") for n in range(7)]
    took = time.monotonic() - start
    assert answers == [True] * 5 + [False] * 2  # the in-memory limit still holds
    assert took < 2.0, took  # one short failed attempt, then memory for a few seconds
