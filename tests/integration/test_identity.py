"""The shop's signed customer through the real widget channel (Socket.IO) and the real bot:
a valid signature lists the customer's own orders and needs no phone proof; a wrong one is
no identity at all (issue #11)."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import pytest
import socketio
from sqlalchemy import create_engine, text

from bot.identity import sign_customer

pytestmark = pytest.mark.server


def _customer_of(database_url: str, order_id: str) -> str:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT customer_id FROM orders WHERE order_id = :o"), {"o": order_id}
        )
        customer = found.scalar_one()
    engine.dispose()
    return str(customer)


async def _chat(base: str, hello: Dict[str, Any], messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Say each message and collect the bot's messages until it has answered."""
    client = socketio.AsyncClient(reconnection=False)
    received: List[Dict[str, Any]] = []
    answered: Optional[asyncio.Event] = None

    @client.on("message")
    async def on_message(entry: Dict[str, Any]) -> None:
        if entry.get("sender") == "bot":
            received.append(entry["message"])
            answered.set()

    await client.connect(base, socketio_path="/widget/socket.io", transports=["polling"])
    try:
        await client.call("hello", hello, timeout=20)
        for message in messages:
            answered = asyncio.Event()
            await client.call("user_message", message, timeout=20)
            await asyncio.wait_for(answered.wait(), 30)
            await asyncio.sleep(1.0)  # the rest of the turn's messages
    finally:
        await client.disconnect()
    return received


def _buttons(messages: List[Dict[str, Any]]) -> List[str]:
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


def test_a_signed_in_customer_chooses_an_order_and_needs_no_proof(bot_server):
    customer = _customer_of(bot_server.database_url, "1001000000000013")
    hello = {
        "customer_id": customer,
        "customer_signature": sign_customer(customer, bot_server.identity_secret),
    }
    first = asyncio.run(_chat(bot_server.base, hello, [{"text": "我要查物流"}]))
    payloads = _buttons(first)
    assert len(payloads) == 2 and all("100100000000001" in p for p in payloads), first
    chosen = asyncio.run(
        _chat(
            bot_server.base,
            hello,
            [{"text": "我要查物流"}, {"text": "1001000000000014", "payload": payloads[0]}],
        )
    )
    said = " ".join(m.get("text") or "" for m in chosen)
    assert "后四位" not in said
    assert any(m.get("custom", {}).get("type") == "order_card" for m in chosen), chosen


def test_a_wrong_signature_is_no_identity(bot_server):
    customer = _customer_of(bot_server.database_url, "1001000000000013")
    hello = {"customer_id": customer, "customer_signature": sign_customer(customer, "not-the-shops-key")}
    replies = asyncio.run(_chat(bot_server.base, hello, [{"text": "我要查物流"}]))
    assert not _buttons(replies) and "订单号" in " ".join(m.get("text") or "" for m in replies)
