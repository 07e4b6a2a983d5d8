"""The shopper's web widget: a Rasa input channel with one Socket.IO connection per shopper.

Protocol (Socket.IO at ``/widget/socket.io/``; every message is an ``outbox.Entry``):

- client ``hello`` {conversation_id, last_seq, epoch} -> ack {conversation_id, epoch,
  last_seq, truncated, messages}: joins the conversation's room and replays what the
  client has not seen (everything, if its epoch is not the log's). Sent on every
  (re)connect; a missing or malformed id gets a new one.
- client ``user_message`` {text, payload?, cid} -> ack {seq} or {error, message}: the
  shopper's message (``payload`` for a quick reply, ``cid`` makes resending harmless).
- server ``message`` Entry and ``typing`` {on}: to the conversation's room.

HTTP under ``/widget``: ``demo``, ``static/<file>``, ``upload`` (evidence photo),
``uploads/<conversation>/<file>``, ``rating``, ``history`` and ``agent_message`` (the hook
for human agents; also ``WidgetInput.deliver_agent_message`` in-process). Errors are JSON
``{"error": code, "message": 中文说明}`` with a 4xx status, never a stack trace. What a valid
request or message looks like, and the refusals, live in ``bot/channels/protocol.py``.

Several replicas (issue #15): with ``REDIS_URL`` set (or ``redis_url`` in credentials.yml) the
outbox is ``RedisOutbox`` (numbered and replayable in Redis, shared by every replica) and
Socket.IO rooms go through python-socketio's ``AsyncRedisManager``, so a reply, an agent message
or a follow-up produced on one replica reaches a shopper connected to another, once and in order.
Without it, both live in this process (``make run``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import inspect
import logging
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Set, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.channels import followup_task
from bot.channels.origins import cors_headers, socketio_origins
from bot.channels.outbox import Entry, Outbox
from bot.channels.protocol import (
    CLIENT_ID,
    CONVERSATION_ID,
    IMAGE_TYPES,
    MAX_TEXT,
    BadRequest,
    bot_message,
    conversation_id,
    json_errors,
    new_conversation_id,
    parse_user_message,
    photo_from_request,
    read_body,
    read_json,
    sniff_image,
    too_large_photo,
)
from bot.identity import CUSTOMER_ID, SECRET_ENV, sign_customer, verified_customer
from bot.limits import Limits, client_address, refusal

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
WEB_DIR = ROOT / "web"
DEFAULT_UPLOAD_DIR = ROOT / "var" / "uploads"
UPLOAD_NAME = re.compile(r"[0-9a-f]{32}\.(jpg|png|webp)")
STATIC_FILES = {
    "widget.js": "application/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
    "vendor/socket.io.min.js": "application/javascript; charset=utf-8",
    "vendor/socket.io.min.js.map": "application/json",
}
MAX_COMMENT = 500
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MULTIPART_OVERHEAD = 16 * 1024
PHOTO_INTENT = "/send_photo"

Handler = Callable[[UserMessage], Awaitable[Any]]


async def maybe_await(value: Any) -> Any:
    """python-socketio made room calls coroutines in 5.10 (rasa #13027); works with both."""
    return await value if inspect.isawaitable(value) else value


class WidgetOutput(OutputChannel):
    """Bot replies go through the outbox, so a shopper who is offline gets them on reconnect."""

    @classmethod
    def name(cls) -> str:
        return WidgetInput.name()

    def __init__(self, channel: "WidgetInput") -> None:
        self.channel = channel

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        shown = bot_message(message)
        if shown:
            await self.channel.deliver(recipient_id, "bot", shown)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.channel.deliver(recipient_id, "bot", {"text": text})


class _Blueprint(Blueprint):
    """Attaches the Socket.IO server to the app the channel is registered with."""

    def register(self, app: Sanic, options: Dict[str, Any]) -> None:
        channel = self.ctx.channel
        channel.app = app
        channel.sio.attach(app, channel.socketio_path)
        followup_task.attach(app, channel)  # R14: due promises reach the shopper through the outbox
        if channel.redis_url:
            app.register_listener(channel.listen_to_other_replicas, "after_server_start")
        super().register(app, options)


class WidgetInput(InputChannel):
    """The web widget channel; see the module docstring for the protocol."""

    @classmethod
    def name(cls) -> str:
        return "widget"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            socketio_path=credentials.get("socketio_path", "/widget/socket.io"),
            agent_token=credentials.get("agent_token") or os.environ.get("WIDGET_AGENT_TOKEN"),
            upload_dir=credentials.get("upload_dir") or os.environ.get("WIDGET_UPLOAD_DIR"),
            redis_url=credentials.get("redis_url") or os.environ.get("REDIS_URL"),
        )

    def __init__(
        self,
        socketio_path: str = "/widget/socket.io",
        agent_token: Optional[str] = None,
        upload_dir: Optional[str] = None,
        outbox: Optional[Outbox] = None,
        repository: Optional[Callable[[], Any]] = None,
        redis_url: Optional[str] = None,
    ) -> None:
        self.socketio_path = socketio_path
        self.agent_token = agent_token or None
        self.upload_dir = Path(upload_dir) if upload_dir else DEFAULT_UPLOAD_DIR
        self.redis_url = redis_url or None
        if outbox is None and self.redis_url:
            from bot.channels.redis_outbox import RedisOutbox

            outbox = RedisOutbox(self.redis_url)
        self.outbox: Any = outbox or Outbox()
        # an outbox in another process (Redis) is called off the event loop: a slow or restarting
        # Redis delays this conversation's delivery, not every shopper's
        self._shared_outbox = not isinstance(self.outbox, Outbox)
        self._in_order: Dict[str, asyncio.Future] = {}
        self.sio: Optional[AsyncServer] = None
        self.app: Optional[Sanic] = None
        self._make_repository = repository or _default_repository
        self._repository: Any = None
        self._tasks: Set[asyncio.Task] = set()
        # Set by the agent console (bot/console): whether a person has the conversation (then no
        # bot typing indicator), and where the shopper's typing goes.
        self.in_human_hands: Optional[Callable[[str], Awaitable[bool]]] = None
        self.on_shopper_typing: Optional[Callable[[str, bool], None]] = None
        self.limits = Limits(redis_url=self.redis_url or "")  # shared by the replicas with Redis (#15)
        self._ratings: Dict[str, int] = {}
        self._pruned_at = 0.0

    def url_prefix(self) -> str:
        return "/widget"

    async def listen_to_other_replicas(self, _app: Any = None, _loop: Any = None) -> None:
        """Subscribe to the other replicas' messages when the server starts, not when the first
        shopper connects (python-socketio's default): a message sent to a room before that would
        reach only the outbox, not the shopper who just joined."""
        if self.sio is not None and not self.sio.manager_initialized:
            self.sio.manager_initialized = True
            self.sio.manager.initialize()

    def get_output_channel(self) -> Optional[OutputChannel]:
        return WidgetOutput(self) if self.sio else None

    def repository(self) -> Any:
        """The order repository, built on first use (nothing connects at import)."""
        if self._repository is None:
            self._repository = self._make_repository()
        return self._repository

    # ---- delivering messages -------------------------------------------------------------

    async def box(self, method: str, *args: Any) -> Any:
        """Call the outbox: in place when it lives here, in a worker thread when it is Redis."""
        call = getattr(self.outbox, method)
        return await asyncio.to_thread(call, *args) if self._shared_outbox else call(*args)

    async def publish(
        self, conversation: str, sender: str, message: Dict[str, Any], cid: Optional[str] = None
    ) -> Tuple[Entry, bool]:
        """Append to the outbox, then push to whoever is connected; (entry, created)."""
        entry, created = await self.box("append", conversation, sender, message, cid)
        if created and self.sio is not None:
            await self.sio.emit("message", entry.to_dict(), room=conversation)
        return entry, created

    async def deliver(self, conversation: str, sender: str, message: Dict[str, Any]) -> Entry:
        return (await self.publish(conversation, sender, message))[0]

    async def deliver_agent_message(self, conversation: str, text: str, agent_name: str = "") -> Entry:
        """The hook for human agents: show ``text`` from sender "agent" in a shopper's conversation.

        Delivered like bot replies (outbox, then the room), so an offline shopper gets it on
        reconnect. The agent console (a later issue) calls this in-process, or POSTs to
        ``/widget/agent_message`` with the agent token.
        """
        conversation = conversation_id(conversation)
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise BadRequest(422, "bad_text", f"消息需要是 1 到 {MAX_TEXT} 字的文字。")
        message = {"text": text.strip(), "agent": str(agent_name or "")[:40]}
        return await self.deliver(conversation, "agent", message)

    async def _typing(self, conversation: str, on: bool) -> None:
        if self.sio is not None:
            await self.sio.emit("typing", {"on": on}, room=conversation)

    async def agent_typing(self, conversation: str, on: bool) -> None:
        """An agent is (or stopped) typing in the console: the only typing shown during a handoff."""
        await self._typing(conversation_id(conversation), bool(on))

    async def _bot_may_answer(self, conversation: str) -> bool:
        if self.in_human_hands is None:
            return True
        try:
            return not await self.in_human_hands(conversation)
        except Exception:  # the database is down: the gate will say so; show no false typing
            logger.warning("widget: handoff state of %s unknown", conversation, exc_info=True)
            return False

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _spawn_in_order(self, conversation: str, coroutine: Awaitable[None]) -> None:
        """Run after the conversation's previous message: a shopper's messages reach Rasa in the
        order they were sent, even if an await before Rasa's lock (the handoff check, a slow
        database) would let a later one overtake an earlier one."""
        previous = self._in_order.get(conversation)

        async def after_previous() -> None:
            if previous is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(previous)
            await coroutine

        task = asyncio.ensure_future(after_previous())
        self._in_order[conversation] = task
        self._tasks.add(task)

        def done(finished: asyncio.Future) -> None:
            self._tasks.discard(finished)
            if self._in_order.get(conversation) is finished:
                del self._in_order[conversation]

        task.add_done_callback(done)

    async def process(self, conversation: str, text: str, on_new_message: Handler, metadata: Dict) -> None:
        """Hand one shopper message to Rasa; replies arrive through WidgetOutput.

        The typing dots show only when the bot will answer: not while a person has the conversation.
        """
        if await self._bot_may_answer(conversation):
            await self._typing(conversation, True)
        try:
            message = UserMessage(
                text, WidgetOutput(self), conversation, input_channel=self.name(), metadata=metadata
            )
            await on_new_message(message)
        except Exception:
            logger.exception("widget: handling a message of %s failed", conversation)
            await self.deliver(
                conversation, "system", {"text": "抱歉，助手暂时出了点问题，请稍后再试，或输入“转人工”。"}
            )
        finally:
            await self._typing(conversation, False)

    # ---- Socket.IO -------------------------------------------------------------------------

    async def hello(self, sid: str, data: Any) -> Dict[str, Any]:
        """Join (or start) a conversation and replay what the client has not seen."""
        data = data if isinstance(data, dict) else {}
        conversation = data.get("conversation_id")
        if not (isinstance(conversation, str) and CONVERSATION_ID.fullmatch(conversation)):
            conversation = new_conversation_id()
        last_seq, epoch = data.get("last_seq"), data.get("epoch")
        if type(last_seq) is not int or last_seq < 0 or not isinstance(epoch, str):
            last_seq, epoch = 0, ""
        session = await self.sio.get_session(sid)
        if session.get("conversation_id") not in (None, conversation):
            await maybe_await(self.sio.leave_room(sid, session["conversation_id"]))
        await maybe_await(self.sio.enter_room(sid, conversation))
        customer = verified_customer(data.get("customer_id"), data.get("customer_signature"))
        await self.sio.save_session(
            sid, {"conversation_id": conversation, "customer_id": customer, "client": self._sid_client(sid)}
        )
        await self._restore_from_tracker(conversation)
        await self.box("open", conversation)
        return await self.replay(conversation, last_seq, epoch)

    async def replay(self, conversation: str, after: int, epoch: Optional[str] = None) -> Dict[str, Any]:
        """What a client that has seen up to ``after`` (of log ``epoch``) is missing."""
        replay = await self.box("since", conversation, after, epoch)
        return {
            "conversation_id": conversation,
            "epoch": replay.epoch,
            "last_seq": replay.last_seq,
            "truncated": replay.truncated,
            "messages": [e.to_dict() for e in replay.entries],
        }

    async def user_message(self, sid: str, data: Any, on_new_message: Handler) -> Dict[str, Any]:
        session = await self.sio.get_session(sid)
        conversation = session.get("conversation_id")
        if not conversation:
            return {"error": "no_hello", "message": "连接尚未就绪，请稍候再发。"}
        try:
            text, payload, cid = parse_user_message(data)
        except BadRequest as refused:
            return {"error": refused.code, "message": refused.message}
        resend = cid is not None and await self.box("has_cid", conversation, cid)
        if not resend and not self.limits.message(conversation, session.get("client")):
            code, message = refusal("rate_limited")
            return {"error": code, "message": message}
        shown = {"text": text, "payload": payload} if payload else {"text": text}
        entry, created = await self.publish(conversation, "user", shown, cid)
        if created:
            metadata = {"display": text, **self._who(session)}
            self._spawn_in_order(conversation, self.process(conversation, payload or text, on_new_message, metadata))
        return {"seq": entry.seq, "at": entry.at}

    def _sid_client(self, sid: str) -> str:
        """The shopper's address: Socket.IO's own environ says 127.0.0.1, the Sanic request knows."""
        request = (self.sio.get_environ(sid) or {}).get("sanic.request")
        return client_address(request) if request is not None else "unknown"

    @staticmethod
    def _who(session: Dict[str, Any]) -> Dict[str, Any]:
        """What the actions may know of the sender: the address, and the shop-verified customer."""
        who = {"client": session.get("client") or "unknown"}
        if session.get("customer_id"):
            who["customer_id"] = session["customer_id"]
        return who

    async def _restore_from_tracker(self, conversation: str) -> None:
        """A conversation the outbox forgot (restart, eviction) comes back from Rasa's tracker store."""
        if await self.box("__contains__", conversation):
            return
        tracker = await self._tracker(conversation)
        # each event is appended under a client id of its own: two replicas restoring the same
        # conversation at once (a shared outbox) add it once
        for n, event in enumerate(tracker.events if tracker else []):
            data = event.as_dict()
            if data.get("event") == "user" and data.get("text"):
                await self.box("append", conversation, "user", _shown_user_message(data), f"restored-{n}")
            elif data.get("event") == "bot":
                shown = bot_message({"text": data.get("text"), **(data.get("data") or {})})
                if shown:
                    await self.box("append", conversation, "bot", shown, f"restored-{n}")

    async def _tracker(self, conversation: str) -> Any:
        try:
            return await self.app.ctx.agent.tracker_store.retrieve(conversation)
        except Exception:  # no agent loaded yet, or a tracker store that is down: no history
            logger.debug("widget: no tracker for %s", conversation, exc_info=True)
            return None

    def _socket_events(self, sio: AsyncServer, on_new_message: Handler) -> None:
        @sio.on("hello")
        async def hello(sid: str, data: Any = None) -> Dict[str, Any]:
            return await self.hello(sid, data)

        @sio.on("user_message")
        async def user_message(sid: str, data: Any = None) -> Dict[str, Any]:
            return await self.user_message(sid, data, on_new_message)

        @sio.on("typing")
        async def typing(sid: str, data: Any = None) -> None:
            conversation = (await self.sio.get_session(sid)).get("conversation_id")
            if conversation and self.on_shopper_typing is not None:
                self.on_shopper_typing(conversation, bool(isinstance(data, dict) and data.get("on") is True))

    # ---- photos, ratings, history ------------------------------------------------------------

    async def upload(self, request: Request, on_new_message: Handler) -> HTTPResponse:
        if not self.limits.upload(client_address(request)):
            raise BadRequest(429, "rate_limited", refusal("rate_limited")[1])
        body = await read_body(request, MAX_PHOTO_BYTES + MULTIPART_OVERHEAD, too_large_photo())
        conversation, cid, data = photo_from_request(request, body)
        conversation = conversation_id(conversation)
        if cid is not None and not CLIENT_ID.fullmatch(cid):
            raise BadRequest(400, "bad_cid", "消息编号无效。")
        if not data:
            raise BadRequest(400, "empty_photo", "照片是空的，请重新选择。")
        if len(data) > MAX_PHOTO_BYTES:
            raise too_large_photo()
        ext = sniff_image(data)
        if ext is None:
            raise BadRequest(415, "not_an_image", "只能上传 JPEG、PNG 或 WebP 格式的照片，这个文件不是。")
        quota = self.limits.settings.uploads_per_conversation
        if await asyncio.to_thread(self._photo_count, conversation) >= quota:
            raise BadRequest(
                429,
                "upload_quota",
                f"这次对话已经上传了 {quota} 张照片，够我们核实了；更多凭证请转人工客服。",
            )
        await self._prune_uploads()
        path = await asyncio.to_thread(self._save_photo, conversation, data, ext)
        evidence_id = await self._record_evidence(conversation, path, IMAGE_TYPES[ext], len(data))
        url = f"/widget/uploads/{conversation}/{path.name}"
        entry, created = await self.publish(conversation, "user", {"type": "photo", "url": url}, cid)
        if created:
            metadata = {"photo": {"url": url, "evidence_id": evidence_id}}
            self._spawn(self.process(conversation, PHOTO_INTENT, on_new_message, metadata))
        return response.json(
            {"ok": True, "url": url, "seq": entry.seq, "evidence_id": evidence_id}, status=201
        )

    def _photo_count(self, conversation: str) -> int:
        folder = self.upload_dir / conversation
        return sum(1 for p in folder.iterdir() if UPLOAD_NAME.fullmatch(p.name)) if folder.is_dir() else 0

    async def _prune_uploads(self) -> None:
        """At most hourly: delete photos older than ``limits.upload_retention_days``."""
        now = time.time()
        if now - self._pruned_at < 3600:
            return
        self._pruned_at = now
        days = self.limits.settings.upload_retention_days
        removed = await asyncio.to_thread(prune_uploads, self.upload_dir, days, now)
        if removed:
            logger.info("widget: deleted %d photos older than %d days", removed, days)

    def _save_photo(self, conversation: str, data: bytes, ext: str) -> Path:
        folder = self.upload_dir / conversation
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}.{ext}"
        path.write_bytes(data)
        return path

    async def _record_evidence(self, conversation: str, path: Path, content_type: str, size: int) -> int:
        """Evidence row for the conversation's open case (None when there is none yet)."""
        tracker = await self._tracker(conversation)
        case_id = tracker.get_slot("case_id") if tracker else None
        stored = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        try:
            return await asyncio.to_thread(
                self.repository().add_evidence,
                int(case_id) if case_id is not None else None,
                stored,
                content_type,
                size,
                conversation_id=conversation,
            )
        except Exception:
            path.unlink(missing_ok=True)
            raise

    async def rating(self, request: Request) -> HTTPResponse:
        data = await read_json(request)
        conversation = conversation_id(data.get("conversation_id"))
        score, comment = data.get("score"), data.get("comment") or ""
        if type(score) is not int or not 1 <= score <= 5:
            raise BadRequest(422, "bad_score", "评分需要是 1 到 5 的整数（星）。")
        if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
            raise BadRequest(422, "bad_comment", f"评价内容需要是文字，最多 {MAX_COMMENT} 字。")
        comment = comment.strip()
        if self._ratings.get(conversation, 0) >= self.limits.settings.ratings_per_conversation or not (
            self.limits.rating(client_address(request))
        ):
            raise BadRequest(429, "rate_limited", "这次对话的评价已经收到了，谢谢您！")
        self._ratings[conversation] = self._ratings.get(conversation, 0) + 1
        if len(self._ratings) > getattr(self.outbox, "max_conversations", 10_000):
            self._ratings.pop(next(iter(self._ratings)))
        rating_id = await asyncio.to_thread(self.repository().save_rating, conversation, score, comment)
        await self.deliver(conversation, "system", {"type": "rating", "score": score, "comment": comment})
        return response.json({"ok": True, "id": rating_id}, status=201)

    async def history(self, request: Request) -> HTTPResponse:
        conversation = conversation_id(request.args.get("conversation_id"))
        after = request.args.get("after", "0")
        if not after.isdigit():
            raise BadRequest(400, "bad_after", "参数 after 需要是非负整数。")
        await self._restore_from_tracker(conversation)
        return response.json(await self.replay(conversation, int(after)), ensure_ascii=False)

    async def agent_message(self, request: Request) -> HTTPResponse:
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not self.agent_token or not hmac.compare_digest(token.encode(), self.agent_token.encode()):
            raise BadRequest(403, "forbidden", "没有权限以客服身份发送消息。")
        data = await read_json(request)
        entry = await self.deliver_agent_message(
            data.get("conversation_id"), data.get("text"), str(data.get("agent_name") or "")
        )
        return response.json({"ok": True, "seq": entry.seq}, status=201)

    # ---- the blueprint -------------------------------------------------------------------------

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        """Socket.IO server plus the HTTP routes, under ``/widget``."""
        # origins: bot/channels/origins.py (None = this server's own origin only)
        manager = None
        if self.redis_url:  # rooms shared by every replica (issue #15)
            from socketio import AsyncRedisManager

            manager = AsyncRedisManager(self.redis_url, channel="shouhou:socketio")
        self.sio = AsyncServer(
            async_mode="sanic", cors_allowed_origins=socketio_origins(), max_http_buffer_size=64 * 1024,
            client_manager=manager,
        )
        bp = _Blueprint("widget_webhook")
        bp.ctx.channel = self
        self._socket_events(self.sio, on_new_message)
        routes = [  # (name, method, uri, handler); POST bodies are streamed and capped by read_body
            ("upload", "POST", "/upload", lambda request: self.upload(request, on_new_message)),
            ("rating", "POST", "/rating", self.rating),
            ("agent_message", "POST", "/agent_message", self.agent_message),
            ("history", "GET", "/history", self.history),
            ("health", "GET", "/", _health),
            ("demo", "GET", "/demo", _demo),
            ("static", "GET", "/static/<name:path>", _static),
            ("uploaded_photo", "GET", "/uploads/<conversation>/<name>", self.uploaded_photo),
        ]
        for name, method, uri, handler in routes:
            bp.add_route(json_errors(handler), uri, methods=[method], stream=method == "POST", name=name)
            if method == "POST":
                bp.add_route(_preflight, uri, methods=["OPTIONS"], name=f"{name}_preflight")
        bp.on_response(_cors)
        return bp

    async def uploaded_photo(self, _: Request, conversation: str, name: str) -> HTTPResponse:
        """A stored evidence photo; its conversation id is the secret that finds it."""
        match = UPLOAD_NAME.fullmatch(name)
        path = self.upload_dir / conversation_id(conversation) / name
        if not match or not path.is_file():
            raise BadRequest(404, "not_found", "照片不存在。")
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=86400"}
        return await response.file(path, mime_type=IMAGE_TYPES[match.group(1)], headers=headers)


def _own_origin(request: Request) -> str:
    return f"{request.scheme}://{request.host}"


async def _preflight(request: Request) -> HTTPResponse:
    """A browser asking before a cross-origin POST: yes only for the allowed origins (origins.py)."""
    headers = cors_headers(request.headers.get("origin"), _own_origin(request), preflight=True)
    return response.empty(status=204 if headers else 403, headers=headers)


async def _cors(request: Request, reply: HTTPResponse) -> None:
    """CORS headers for allowed origins; preflights may be answered by Rasa's CORS extension first."""
    preflight = request.method == "OPTIONS"
    for key, value in cors_headers(request.headers.get("origin"), _own_origin(request), preflight).items():
        reply.headers[key] = value


async def _health(_: Request) -> HTTPResponse:
    return response.json({"status": "ok"})


async def _demo(request: Request) -> HTTPResponse:
    """The demo shop page. ``?customer=<id>`` plays the shop's server for a signed-in customer:
    with ``SHOP_IDENTITY_SECRET`` set it signs the id, as a shop's own page would (bot/identity.py)."""
    html = (WEB_DIR / "demo.html").read_text(encoding="utf-8")
    customer, secret = request.args.get("customer", ""), os.environ.get(SECRET_ENV)
    if secret and CUSTOMER_ID.fullmatch(customer):
        tag = '<script src="/widget/static/widget.js"></script>'
        signed = (
            f'<script src="/widget/static/widget.js" data-customer-id="{customer}" '
            f'data-customer-signature="{sign_customer(customer, secret)}"></script>'
        )
        html = html.replace(tag, signed)
    return response.html(html, headers={"Cache-Control": "no-cache"})


async def _static(_: Request, name: str) -> HTTPResponse:
    """Only the widget's own files; web/vendor/ is filled by ``make web``."""
    path = WEB_DIR / name
    if name not in STATIC_FILES or not path.is_file():
        hint = "（web/vendor/ 由 make web 生成）" if name.startswith("vendor/") else ""
        raise BadRequest(404, "not_found", f"没有这个文件{hint}。")
    return await response.file(path, mime_type=STATIC_FILES[name], headers={"Cache-Control": "no-cache"})


def _shown_user_message(event: Dict[str, Any]) -> Dict[str, Any]:
    """A shopper's message as the widget showed it, from its tracker event (our own metadata)."""
    metadata = event.get("metadata") or {}
    photo = metadata.get("photo")
    if event["text"] == PHOTO_INTENT and isinstance(photo, dict) and photo.get("url"):
        return {"type": "photo", "url": photo["url"]}
    return {"text": metadata.get("display") or event["text"]}


def prune_uploads(folder: Path, days: int, now: Optional[float] = None) -> int:
    """Delete stored photos older than ``days`` (and the folders left empty); returns how many."""
    cutoff = (now or time.time()) - days * 86400
    removed = 0
    if not folder.is_dir():
        return 0
    for conversation in folder.iterdir():
        if not (conversation.is_dir() and CONVERSATION_ID.fullmatch(conversation.name)):
            continue
        for photo in conversation.iterdir():
            if UPLOAD_NAME.fullmatch(photo.name) and photo.stat().st_mtime < cutoff:
                photo.unlink(missing_ok=True)
                removed += 1
        if not any(conversation.iterdir()):
            conversation.rmdir()
    return removed


def _default_repository() -> Any:
    from bot.store.db import make_engine, session_factory
    from bot.store.repository import OrderRepository

    return OrderRepository(session_factory(make_engine()))


def widget_channel(app: Sanic) -> Optional[WidgetInput]:
    """The widget channel a Rasa server runs, for other blueprints (the agent console) to deliver through."""
    for channel in getattr(app.ctx, "input_channels", []):
        if isinstance(channel, WidgetInput):
            return channel
    return None
