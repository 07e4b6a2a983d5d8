"""The widget channel on a bare Sanic app with a scripted stand-in for the bot (no model needed).

Used by the channel's HTTP/Socket.IO tests, and to work on the widget before a model is
trained: ``python tests/browser/echo_app.py 5006`` then open http://localhost:5006/widget/demo.
Replies: "/send_photo" -> thanks; "订单" -> an order card; anything else -> an echo with two
quick replies; "慢" -> the echo after two seconds.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from rasa.core.channels.channel import UserMessage  # noqa: E402
from sanic import Sanic  # noqa: E402

from bot.channels.widget import WidgetInput  # noqa: E402

CARD = {
    "type": "order_card",
    "order_id": "1001000000000004",
    "state": "已签收",
    "items": [{"name": "羊毛衫", "price": 259.0, "quantity": 1, "color": "米白色", "size": "L"}],
    "total": 259.0,
    "carrier": "顺丰速运",
    "tracking_no": "SF1234567890",
}


async def scripted_bot(message: UserMessage) -> None:
    out, to, text = message.output_channel, message.sender_id, message.text or ""
    if "慢" in text:
        await asyncio.sleep(2)
    if text == "/send_photo":
        await out.send_response(to, {"text": "照片收到了，谢谢您！"})
    elif "订单" in text:
        await out.send_response(to, {"text": "找到您的订单了："})
        await out.send_response(to, {"custom": CARD})
    else:
        buttons = [
            {"title": "查物流", "payload": "/check_order_status"},
            {"title": "转人工", "payload": "/ask_human"},
        ]
        await out.send_response(to, {"text": "你说：" + text, "buttons": buttons})


def make_app(channel: WidgetInput) -> Sanic:
    app = Sanic("widget_echo")
    app.ctx.agent = None
    app.blueprint(channel.blueprint(scripted_bot), url_prefix=channel.url_prefix())
    app.ctx.input_channels = [channel]
    return app


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5006
    make_app(WidgetInput.from_credentials({})).run(host="127.0.0.1", port=port, access_log=False)
