"""The plain-Python parts of issue #11: rate limits, the signed identity, the lock-out, masking,
origins, the outbox's bounds, upload retention, the apology."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.channels.origins import allowed_origins, cors_headers, origin_allowed
from bot.channels.outbox import Outbox
from bot.channels.widget import prune_uploads
from bot.identity import attempts_left, locked_until, sign_customer, verified_customer
from bot.limits import Limits, RateLimiter
from bot.privacy import MaskingStream, mask_personal
from bot.resilience import APOLOGY, apology
from bot.settings import LimitSettings

T0 = datetime(2026, 6, 1, 12, 0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_flooding_key_is_slowed_and_the_others_are_not():
    clock = Clock()
    limiter = RateLimiter(3, window=60, clock=clock)
    assert [limiter.allow("flood") for _ in range(5)] == [True, True, True, False, False]
    assert limiter.allow("someone else")
    clock.now += 61  # the window slides: allowed again
    assert limiter.allow("flood")


def test_the_limiter_forgets_the_least_recent_keys_first():
    limiter = RateLimiter(1, max_keys=2, clock=Clock())
    for key in ("a", "b", "c"):
        assert limiter.allow(key)
    assert limiter.allow("a")  # "a" was forgotten when "c" came
    assert not limiter.allow("c")


def test_messages_are_limited_per_conversation_and_per_address():
    limits = Limits(
        LimitSettings(messages_per_minute_conversation=2, messages_per_minute_client=3), clock=Clock()
    )
    assert limits.message("web-1", "10.0.0.1") and limits.message("web-1", "10.0.0.1")
    assert not limits.message("web-1", "10.0.0.1")  # the conversation's limit
    assert limits.message("web-2", "10.0.0.2")  # another shopper is not slowed
    assert limits.message("web-3", "10.0.0.1")  # a third message of that address...
    assert not limits.message("web-4", "10.0.0.1")  # ...and no more, whatever the conversation


def test_the_shops_signature_verifies_only_the_signed_customer():
    secret = "test-secret-not-a-real-one"
    signature = sign_customer("7", secret)
    assert verified_customer("7", signature, secret) == "7"
    assert verified_customer("7", signature.upper(), secret) == "7"
    assert verified_customer("8", signature, secret) is None
    tampered = signature[:-1] + ("1" if signature[-1] == "0" else "0")
    assert verified_customer("7", tampered, secret) is None
    assert verified_customer("7", "", secret) is None
    assert verified_customer("7", signature, "") is None  # no secret configured: nobody is verified
    assert verified_customer(7, signature, secret) is None
    assert verified_customer("7\n", sign_customer("7\n", secret), secret) is None


def test_the_secret_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("SHOP_IDENTITY_SECRET", raising=False)
    assert verified_customer("7", sign_customer("7", "s")) is None
    monkeypatch.setenv("SHOP_IDENTITY_SECRET", "s")
    assert verified_customer("7", sign_customer("7", "s")) == "7"


@pytest.mark.parametrize(
    "minutes_ago, locked",
    [((50, 40, 30), False), ((20, 10, 5), True), ((40, 35, 31), False), ((2,), False), ((3, 2, 1, 0), True)],
)
def test_the_lock_out(minutes_ago, locked):
    failures = [T0 - timedelta(minutes=m) for m in minutes_ago]
    until = locked_until(failures, T0, max_failures=3, lockout_minutes=30)
    assert (until is not None) is locked
    if locked:
        assert until == max(failures) + timedelta(minutes=30)
    assert attempts_left(failures, 3) == max(0, 3 - len(failures))


def test_personal_numbers_are_masked_and_order_numbers_are_not():
    text = "手机13800000013，订单1001000000000004，138-0000-0013，身份证11010519491231002X，后四位0013"
    masked = mask_personal(text)
    assert "13800000013" not in masked and "0000-0013" not in masked and "19491231" not in masked
    assert "1001000000000004" in masked and "138****0013" in masked and "后四位0013" in masked


def test_the_masking_stream_masks_what_is_written(tmp_path):
    with (tmp_path / "log").open("w") as raw:
        MaskingStream(raw).write("user said 13912345678\n")
    assert (tmp_path / "log").read_text() == "user said 139****5678\n"


def test_origins_are_configured_in_one_place():
    assert allowed_origins("") is None
    assert allowed_origins("https://shop.example, https://m.shop.example/") == [
        "https://shop.example",
        "https://m.shop.example",
    ]
    assert allowed_origins("* https://x") == "*"
    own = "http://bot.example"
    assert origin_allowed(own, own, "")
    assert not origin_allowed("https://evil.example", own, "")
    assert origin_allowed("https://shop.example", own, "https://shop.example")
    assert cors_headers("https://evil.example", own) == {}


def test_the_outbox_is_bounded_by_bytes():
    outbox = Outbox(max_bytes=200)
    for n in range(20):
        outbox.append("web-a", "bot", {"text": f"第{n}条" + "很长" * 10})
    replay = outbox.since("web-a", 0)
    assert replay.truncated and replay.entries[-1].seq == 20 and len(replay.entries) < 20
    assert sum(len(str(e.message)) for e in replay.entries) < 400


def test_the_outbox_drops_old_messages_and_whole_conversations_by_total_size():
    clock = Clock()
    outbox = Outbox(max_age=3600, clock=clock, max_total_bytes=300)
    outbox.append("web-old", "bot", {"text": "一小时前"})
    clock.now += 3601
    outbox.append("web-old", "bot", {"text": "现在"})
    assert [e.message["text"] for e in outbox.since("web-old", 0).entries] == ["现在"]
    for n in range(10):
        outbox.append(f"web-{n}", "bot", {"text": "x" * 50})
    assert "web-old" not in outbox and "web-9" in outbox


def test_old_uploads_are_deleted_after_the_retention(tmp_path: Path):
    folder = tmp_path / ("web-" + "a" * 32)
    folder.mkdir()
    old, new = folder / ("1" * 32 + ".jpg"), folder / ("2" * 32 + ".png")
    for path in (old, new):
        path.write_bytes(b"\xff\xd8\xff")
    long_ago = time.time() - 91 * 86400
    os.utime(old, (long_ago, long_ago))
    (tmp_path / "not-a-conversation").mkdir()
    assert prune_uploads(tmp_path, days=90) == 1
    assert not old.exists() and new.exists()
    os.utime(new, (long_ago, long_ago))
    assert prune_uploads(tmp_path, days=90) == 1 and not folder.exists()


def test_the_apology_follows_the_shoppers_script():
    assert apology(["我要退货"])["text"] == APOLOGY
    traditional = apology(["我的訂單到哪裡了"])
    assert (
        traditional["text"] != APOLOGY and "係統" not in traditional["text"] and "系統" in traditional["text"]
    )
    assert traditional["buttons"] == [{"title": "轉人工客服", "payload": "/ask_human"}]
