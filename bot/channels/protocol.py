"""The widget's wire protocol: what a request or a message must look like, and the refusals.

Pure helpers shared by the widget channel's Socket.IO events and HTTP routes
(``bot/channels/widget.py``): conversation and client ids, the shopper's message, the bot
message as the widget shows it, JSON and streamed bodies with size limits, photos recognised
by their bytes. Every refusal is a ``BadRequest`` carrying the status, a code and the Chinese
sentence the shopper sees; ``json_errors`` turns it (or anything unexpected) into a JSON error,
never a stack trace.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

from sanic import response
from sanic.headers import parse_content_header
from sanic.request import Request, parse_multipart_form
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

CONVERSATION_ID = re.compile(r"web-[0-9a-f]{32}")  # always fullmatch: "$" would let a "\n" through
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
IMAGE_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
MAX_TEXT = 1000
MAX_JSON_BYTES = 16 * 1024
BOT_KEYS = ("image", "custom", "attachment", "elements")


class BadRequest(Exception):
    """A request the widget refuses, with the status and the Chinese sentence shown to the shopper."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


def too_large_photo() -> BadRequest:
    return BadRequest(413, "photo_too_large", "图片太大了：单张最大 5 MB，请压缩或截图后再上传。")


def new_conversation_id() -> str:
    return "web-" + uuid.uuid4().hex


def sniff_image(data: bytes) -> Optional[str]:
    """The photo's extension from its magic bytes (JPEG, PNG, WebP), else None; never the file name."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def bot_message(message: Dict[str, Any]) -> Dict[str, Any]:
    """What the widget shows of one Rasa bot message: text, quick replies, custom payloads."""
    shown: Dict[str, Any] = {}
    if message.get("text"):
        shown["text"] = str(message["text"])
    buttons = message.get("buttons") or message.get("quick_replies") or []
    buttons = [
        {"title": str(b.get("title") or b.get("payload")), "payload": str(b["payload"])}
        for b in buttons
        if isinstance(b, dict) and b.get("payload")
    ]
    if buttons:
        shown["buttons"] = buttons
    shown.update({key: message[key] for key in BOT_KEYS if message.get(key)})
    return shown


def conversation_id(value: Any) -> str:
    if isinstance(value, str) and CONVERSATION_ID.fullmatch(value):
        return value
    raise BadRequest(400, "bad_conversation", "会话标识无效，请刷新页面后重试。")


def parse_user_message(data: Any) -> Tuple[str, Optional[str], Optional[str]]:
    """(text shown, payload sent to Rasa or None, client id) from a ``user_message`` event."""
    if not isinstance(data, dict):
        raise BadRequest(400, "bad_message", "消息格式不正确。")
    text, payload, cid = data.get("text"), data.get("payload"), data.get("cid")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest(400, "empty_message", "消息不能为空。")
    if len(text) > MAX_TEXT:
        raise BadRequest(413, "message_too_long", f"消息太长了，请控制在 {MAX_TEXT} 字以内。")
    if payload is not None and (
        not isinstance(payload, str) or not payload.startswith("/") or len(payload) > 300
    ):
        raise BadRequest(400, "bad_payload", "快捷回复无效，请直接输入文字。")
    if cid is not None and (not isinstance(cid, str) or not CLIENT_ID.fullmatch(cid)):
        raise BadRequest(400, "bad_cid", "消息编号无效。")
    return text.strip(), payload, cid


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": code, "message": message}, status=status, ensure_ascii=False)


def json_errors(handler: Callable[..., Awaitable[HTTPResponse]]) -> Callable[..., Awaitable[HTTPResponse]]:
    """Refusals become their JSON error; anything unexpected a 500 without a trace."""

    @functools.wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        try:
            return await handler(request, *args, **kwargs)
        except BadRequest as refusal:
            return _error(refusal.status, refusal.code, refusal.message)
        except Exception:
            logger.exception("widget: %s %s failed", request.method, request.path)
            return _error(500, "server_error", "服务器开小差了，请稍后再试。")

    return wrapped


async def read_body(request: Request, limit: int, too_large: BadRequest) -> bytes:
    """The body of a streamed request, refusing it as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    if request.stream is not None:
        async for chunk in request.stream:
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> Dict[str, Any]:
    body = await read_body(request, MAX_JSON_BYTES, BadRequest(413, "body_too_large", "请求内容过大。"))
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        raise BadRequest(400, "malformed_json", "请求格式不正确：需要 JSON。") from None
    if not isinstance(data, dict):
        raise BadRequest(400, "malformed_json", "请求格式不正确：需要 JSON 对象。")
    return data


def photo_from_request(request: Request, body: bytes) -> Tuple[Any, Optional[str], bytes]:
    """(conversation id, client id, bytes) from a multipart form (field ``photo``) or a raw body."""
    content_type, params = parse_content_header(request.headers.get("content-type", ""))
    if content_type != "multipart/form-data":
        return request.args.get("conversation_id"), request.args.get("cid"), body
    try:
        fields, files = parse_multipart_form(body, params["boundary"].encode("utf-8"))
    except (KeyError, ValueError, UnicodeDecodeError):
        raise BadRequest(400, "bad_form", "上传格式不正确，请重新选择照片。") from None
    photo = files.get("photo")
    if photo is None:
        raise BadRequest(400, "no_photo", "没有收到照片，请重新选择。")
    return fields.get("conversation_id"), fields.get("cid"), photo.body
