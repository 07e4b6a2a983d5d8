"""The REST channel (POST /webhooks/rest/webhook) with the checks it lacked (issue #11).

Rasa's ``RestInput`` takes any body up to Sanic's 100 MB, puts the whole text in the
tracker, fails with a 500 on a message that is not text, and passes the caller's own
``metadata`` into the conversation, where it would be taken for the widget's verified
identity. ``ShopRestInput`` keeps the URL and the reply format and:

- refuses a body over ``limits.max_body_bytes`` (413) or a message over
  ``max_message_chars`` (a reply saying so), before anything enters the tracker; Sanic
  itself refuses any request over 6 MB (the largest photo upload);
- refuses what is not ``{"sender": text, "message": text}`` with a 400 and a Chinese reason;
- limits messages per conversation and per client address (429 and a polite reply);
- replaces the caller's metadata with the one thing the server knows: the client address.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.limits import Limits, client_address, refusal

MAX_SENDER = 128
# Sanic reads a whole body before any handler (100 MB by default); nothing the server takes is
# larger than a photo upload of the widget (5 MB and the multipart wrapping).
REQUEST_MAX_SIZE = 6 * 1024 * 1024


class _Blueprint(Blueprint):
    def register(self, app: Any, options: Dict[str, Any]) -> None:
        app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, REQUEST_MAX_SIZE)
        super().register(app, options)


def _reply(sender: str, status: int, code: str, text: str) -> HTTPResponse:
    """A refusal the REST client shows like any bot reply, with its status and code."""
    body = [{"recipient_id": sender, "text": text, "error": code}]
    return response.json(body, status=status, ensure_ascii=False)


class ShopRestInput(RestInput):
    """Rasa's REST channel with size, shape and rate checks (see the module docstring)."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def __init__(self, limits: Optional[Limits] = None) -> None:
        self.limits = limits or Limits()

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "ShopRestInput":
        return cls()

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return {"client": client_address(request)}

    def _parse(self, request: Request) -> Any:
        settings = self.limits.settings
        if len(request.body or b"") > settings.max_body_bytes:
            return _reply("", 413, "body_too_large", refusal("too_long", settings.max_message_chars)[1])
        try:
            data = json.loads((request.body or b"").decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            return _reply("", 400, "malformed_json", "请求格式不正确：需要 UTF-8 编码的 JSON 对象。")
        sender, message = (
            (data.get("sender"), data.get("message")) if isinstance(data, dict) else (None, None)
        )
        if sender is None and isinstance(data, dict):
            sender = "default"
        if (
            not isinstance(sender, str)
            or not sender.strip()
            or len(sender) > MAX_SENDER
            or not sender.isprintable()
        ):
            return _reply("", 400, "bad_sender", f"sender 需要是 1 到 {MAX_SENDER} 个可见字符的文字。")
        if not isinstance(message, str):
            return _reply(sender, 400, "bad_message", "message 需要是文字。")
        if len(message) > settings.max_message_chars:  # answered like a reply: the shopper reads it
            return _reply(sender, 200, "message_too_long", refusal("too_long", settings.max_message_chars)[1])
        return sender, message

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        bp = _Blueprint("custom_webhook_ShopRestInput", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            parsed = self._parse(request)
            if isinstance(parsed, HTTPResponse):
                return parsed
            sender, message = parsed
            client = client_address(request)
            if not self.limits.message(sender, client):
                return _reply(sender, 429, "rate_limited", refusal("rate_limited")[1])
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(
                    message, collector, sender, input_channel=self.name(), metadata={"client": client}
                )
            )
            return response.json(collector.messages)

        return bp
