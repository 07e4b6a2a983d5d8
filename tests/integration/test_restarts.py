"""Crashes mid-conversation: the conversation goes on, with nothing lost and nothing doubled.

Real servers on a real SQLite file (the default store). The Rasa server is killed with
SIGKILL in the middle of a negotiation and the action server before the shopper accepts;
each comes back on the same port and database. The verified order, the case, the
negotiation's round and the widget's history must all survive, the shopper gets an honest
apology while the action server is away, and the deal is paid exactly once.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path

import pytest

from bot.resilience import APOLOGY
from bot.store.db import make_engine, session_factory
from bot.store.repository import OrderRepository
from tests.integration.servers import Servers

pytestmark = pytest.mark.server

ORDER = "1001000000000004"


@pytest.fixture
def servers(tmp_path: Path):
    pair = Servers(tmp_path, f"sqlite:///{tmp_path / 'shop.db'}")
    pair.seed()
    pair.start_all()
    yield pair
    pair.stop()


def _history(servers: Servers, conversation: str) -> list:
    url = f"{servers.bot.base}/widget/history?conversation_id={conversation}&after=0"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())["messages"]


def test_killing_either_server_mid_negotiation_loses_and_doubles_nothing(servers: Servers):
    bot, shopper = servers.bot, "web-" + uuid.uuid4().hex
    said = ["我买的羊毛衫颜色跟图片差太多了", ORDER, "0004", "照片发了", "不退了，给点补偿吧"]
    for message in said:
        bot.say(shopper, message)
    repo = OrderRepository(session_factory(make_engine(servers.env["DATABASE_URL"])))
    (case,) = repo.cases_for_order(ORDER)
    first_offers = repo.offers_for_case(case.case_id)
    assert first_offers, "an opening offer was made and stored"

    servers.kill("rasa")  # mid-negotiation
    servers.start("rasa")
    counter = bot.texts(shopper, "才10块太少了，至少30")
    said.append("才10块太少了，至少30")
    assert "订单号" not in counter and "后四位" not in counter, "the verified order was forgotten"
    assert "30" in counter, counter
    offers = repo.offers_for_case(case.case_id)
    assert len(offers) > len(first_offers) and offers[: len(first_offers)] == first_offers
    assert repo.cases_for_order(ORDER) == [repo.get_case(case.case_id)], "one case, not a new one"

    servers.kill("actions")  # the shopper accepts while the action server is down
    down = bot.say(shopper, "好的")
    said.append("好的")
    assert [m["text"] for m in down] == [APOLOGY], down
    assert down[0]["buttons"][0]["payload"] == "/ask_human"
    assert repo.refunds_for_case(case.case_id) == [], "nothing paid while the decision failed"

    servers.start("actions")
    accepted = bot.texts(shopper, "好的")
    said.append("好的")
    assert "补偿" in accepted, accepted
    bot.say(shopper, "好的")  # said twice: still one payment
    said.append("好的")
    (refund,) = repo.refunds_for_case(case.case_id)
    last_shop_offer = [o for o in repo.offers_for_case(case.case_id) if o.actor == "shop"][-1]
    assert refund.amount == last_shop_offer.amount

    servers.kill("rasa")  # the widget's history comes back from the tracker store
    servers.start("rasa")
    history = _history(servers, shopper)
    shown = [m["message"].get("text") for m in history if m["sender"] == "user"]
    assert shown == said, "every message once, in order"
    seqs = [m["seq"] for m in history]
    assert seqs == list(range(1, len(history) + 1))
    assert any(m["sender"] == "bot" and APOLOGY in (m["message"].get("text") or "") for m in history)
