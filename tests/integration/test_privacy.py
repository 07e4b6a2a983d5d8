"""No personal data where it does not belong (issue #11): a conversation with a full phone
number, run with both servers logging at debug level (Rasa then logs every message), leaves
no phone number in either server's log, in the stored conversation or in the handoff summary."""

from __future__ import annotations

import re
import sqlite3
import uuid
from pathlib import Path

import pytest

from tests.integration.servers import Servers

pytestmark = pytest.mark.server

PHONE = "13800000013"
ANY_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def test_a_phone_number_is_masked_in_logs_transcripts_and_handoffs(tmp_path: Path):
    servers = Servers(tmp_path, f"sqlite:///{tmp_path / 'shop.db'}", debug=True)
    servers.seed()
    servers.start_all()
    try:
        bot, shopper = servers.bot, "test-" + uuid.uuid4().hex[:12]
        bot.say(shopper, "我要退货")
        bot.say(shopper, f"我的手机号是{PHONE}")
        bot.say(shopper, "订单号1001000000000013")
        assert "对不上" in bot.texts(shopper, "9999")
        bot.say(shopper, f"手机号 {PHONE[:3]} {PHONE[3:7]} {PHONE[7:]} 转人工")
        bot.say(shopper, "转人工")
    finally:
        servers.stop()
    logs = servers.log_text()
    assert "processor.message.parse" in logs, "debug logging was on: Rasa logs every message"
    assert "138****0013" in logs, "the masked form is what is logged"
    assert not ANY_MOBILE.findall(logs)
    assert "0000 0013" not in logs
    with sqlite3.connect(tmp_path / "shop.db") as db:
        events = " ".join(row[0] for row in db.execute("SELECT data FROM events"))
        summaries = " ".join(row[0] for row in db.execute("SELECT summary FROM handoffs"))
    assert "138****0013" in events and not ANY_MOBILE.findall(events)
    assert summaries and not ANY_MOBILE.findall(summaries)
