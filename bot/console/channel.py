"""The agent console as a Rasa input channel: a Sanic blueprint under ``/console`` served by the
Rasa server (credentials.yml), beside the widget channel it delivers agent replies through.

Pages (HTML, in Chinese): ``/console`` (queue, live), ``/console/c/<conversation>`` (context card,
transcript, reply box, notes, actions), ``/console/followups``, ``/console/canned``. The JSON API
is under ``/console/api`` (README "Agent console API"). Everything but the login answers 401
without a session. Registering the blueprint also installs the handoff gate into Rasa's message
processor (``bot.console.gate``) and starts the watch that returns offline agents' conversations
to the queue.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import handoff as h
from bot.channels.protocol import CONVERSATION_ID
from bot.channels.widget import widget_channel
from bot.console import auth, card, draft, gate, pages, trainer_routes
from bot.console.hub import Hub
from bot.domain import Grant
from bot.store.console import ConsoleRepository, HandoffState
from bot.store.repository import OrderRepository, RefundLimitExceeded

logger = logging.getLogger(__name__)

MAX_TEXT = 1000
CANNED_CODE = re.compile(r"/[^\s/]{1,30}")
WATCH_SECONDS = 15.0


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def _fail(status: int, code: str, message: str, **extra: Any) -> HTTPResponse:
    return response.json({"error": code, "message": message, **extra}, status=status, ensure_ascii=False)


def _json(data: Any, status: int = 200) -> HTTPResponse:
    return response.json(data, status=status, ensure_ascii=False, default=str)


def _body(request: Request) -> Dict[str, Any]:
    try:
        data = request.json
    except Exception:
        data = None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "请求体需要是 JSON 对象。")
    return data


def _text(data: Dict[str, Any], key: str = "text", limit: int = MAX_TEXT) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ApiError(422, f"bad_{key}", f"{key} 需要是 1 到 {limit} 字的文字。")
    return value.strip()


def _amount(data: Dict[str, Any]) -> Decimal:
    try:
        amount = Decimal(str(data.get("amount"))).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ApiError(422, "bad_amount", "金额需要是数字。") from None
    if not amount.is_finite() or amount <= 0:
        raise ApiError(422, "bad_amount", "金额需要大于 0。")
    return amount


class ConsoleInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "console"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    def __init__(
        self,
        console: Optional[ConsoleRepository] = None,
        orders: Optional[OrderRepository] = None,
        service: Optional[h.ServiceSettings] = None,
    ) -> None:
        self._console, self._orders = console, orders
        self.service = service or h.load_service()
        self.hub = Hub()
        self.limiter = auth.LoginLimiter()
        self.app: Optional[Sanic] = None
        self._watch: Optional[asyncio.Task] = None
        self._settings: Any = None

    def url_prefix(self) -> str:
        return "/console"

    # ---- what the console works with ------------------------------------------------------

    def console(self) -> ConsoleRepository:
        if self._console is None:
            self._console = ConsoleRepository(self.orders().session_factory)
        return self._console

    def orders(self) -> OrderRepository:
        if self._orders is None:
            from bot.store.db import make_engine, session_factory

            self._orders = OrderRepository(session_factory(make_engine()))
        return self._orders

    def widget(self) -> Any:
        return widget_channel(self.app) if self.app is not None else None

    def rasa_agent(self) -> Any:
        return getattr(self.app.ctx, "agent", None) if self.app is not None else None

    async def db(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    # ---- wiring ---------------------------------------------------------------------------

    def blueprint(self, on_new_message: Any) -> Blueprint:
        bp = _Blueprint("console")
        bp.ctx.channel = self
        c = self.console

        def route(handler: Any, uri: str, method: str = "GET", page: bool = False, changes: bool = False,
                  roles: tuple = auth.CONSOLE_ROLES, name: str = "") -> None:
            guarded = auth.guarded(c, self._errors(handler), page=page, changes=changes, roles=roles)
            bp.add_route(guarded, uri, methods=[method], name=name or handler.__name__)

        bp.add_route(self._errors(self.api_login), "/api/login", methods=["POST"], name="api_login")
        bp.add_route(self._errors(self.form_login), "/login", methods=["POST"], name="form_login")
        route(self.queue_page, "/", page=True)
        route(self.conversation_page, "/c/<conversation_id>", page=True)
        route(self.followups_page, "/followups", page=True)
        route(self.canned_page, "/canned", page=True)
        route(self.static, "/static/<name>", page=True, roles=auth.ROLES)
        route(self.form_logout, "/logout", "POST", page=True, changes=True, roles=auth.ROLES)
        route(self.api_logout, "/api/logout", "POST", changes=True, roles=auth.ROLES)
        route(self.api_me, "/api/me", roles=auth.ROLES)
        route(self.api_handoffs, "/api/handoffs")
        route(self.api_card, "/api/handoffs/<conversation_id>")
        route(self.api_draft, "/api/handoffs/<conversation_id>/draft")
        for action in ("claim", "release", "messages", "notes", "typing", "refund", "offer", "promise"):
            route(getattr(self, f"api_{action}"), f"/api/handoffs/<conversation_id>/{action}", "POST", changes=True)
        route(self.api_followups, "/api/followups")
        route(self.api_followup_done, "/api/followups/<follow_up_id:int>/done", "POST", changes=True)
        route(self.api_canned, "/api/canned")
        route(self.api_canned_save, "/api/canned", "POST", changes=True, name="api_canned_save")
        route(self.api_canned_delete, "/api/canned/delete", "POST", changes=True)
        route(self.api_ratings, "/api/ratings")
        route(self.api_events, "/api/events")
        route(self.api_heartbeat, "/api/heartbeat", "POST", changes=True)
        trainer_routes.register(bp, route, self)  # the trainer's pages and API (issue #14)
        # anything else under /console: 401 without a session (nothing to learn), 404 with one
        route(self.not_found, "/<rest:path>", page=True)
        route(self.not_found, "/<rest:path>", "POST", name="not_found_post")
        return bp

    def attach(self, app: Sanic) -> None:
        """Called when the blueprint is registered: the gate, the widget hooks, the offline watch."""
        self.app = app
        gate.install(gate.Gate(self.console(), self.orders().add_follow_up, self.service, self.hub.publish))

        @app.listener("after_server_start")
        async def started(app_: Sanic, _loop: Any) -> None:
            widget = self.widget()
            if widget is not None:
                widget.in_human_hands = gate._GATE.in_human_hands if gate._GATE else None
                widget.on_shopper_typing = self._shopper_typing
            self._watch = asyncio.ensure_future(self._watch_offline_agents())
            await self.hub.start()  # with REDIS_URL: events of every replica (issue #15)

        @app.listener("before_server_stop")
        async def stopping(app_: Sanic, _loop: Any) -> None:
            if self._watch is not None:
                self._watch.cancel()
            await self.hub.stop()

    def _errors(self, handler: Any) -> Any:
        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            try:
                return await handler(request, *args, **kwargs)
            except ApiError as error:
                return _fail(error.status, error.code, error.message, **error.extra)
            except Exception:  # logged here; the caller gets no stack trace
                logger.exception("console: %s failed", handler.__name__)
                return _fail(500, "server_error", "服务器开小差了，请稍后再试。")

        wrapped.__name__ = handler.__name__
        return wrapped

    def _shopper_typing(self, conversation_id: str, on: bool) -> None:
        self.hub.publish({"type": "typing", "conversation_id": conversation_id, "who": "user", "on": on})

    async def _watch_offline_agents(self) -> None:
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                await self.requeue_offline()
            except Exception:
                logger.exception("console: returning offline agents' conversations failed")

    async def requeue_offline(self) -> List[HandoffState]:
        cutoff = self.console().now() - timedelta(seconds=self.service.agent_offline_seconds)
        moved = await self.db(self.console().requeue_from_offline, cutoff)
        for state in moved:
            self.hub.publish({"type": "queue"})
            self.hub.publish({"type": "message", "conversation_id": state.conversation_id, "sender": "system"})
        return moved

    # ---- login --------------------------------------------------------------------------------

    async def _login(self, request: Request, username: Any, password: Any) -> Optional[HTTPResponse]:
        """None when the login succeeded (then request.ctx has the new session); else the refusal."""
        if not isinstance(username, str) or not isinstance(password, str) or not 0 < len(username) <= 40 \
                or not 0 < len(password) <= 200:
            return _fail(422, "bad_login", "请输入账号和密码。")
        keys = [f"ip:{request.remote_addr or request.ip}", f"user:{username.lower()}"]
        wait = self.limiter.retry_after(keys)
        if wait:
            resp = _fail(429, "too_many_attempts", f"登录失败次数过多，请 {wait} 秒后再试。")
            resp.headers["Retry-After"] = str(wait)
            return resp
        if not await self.db(auth.check_password, self.console(), username, password):
            self.limiter.failed(keys)
            return _fail(401, "bad_credentials", "账号或密码不正确。")
        user = await self.db(self.console().user, username)
        if user.role not in auth.ROLES:
            return _fail(403, "forbidden", "这个账号不能登录工作台。")
        self.limiter.succeeded(keys)
        token, csrf = await self.db(auth.new_session, self.console(), username, self.service.session_hours)
        request.ctx.login = (token, csrf, user)
        return None

    async def api_login(self, request: Request) -> HTTPResponse:
        data = _body(request)
        refusal = await self._login(request, data.get("username"), data.get("password"))
        if refusal is not None:
            return refusal
        token, csrf, user = request.ctx.login
        resp = _json({"csrf_token": csrf, "username": user.username, "display_name": user.display_name,
                      "role": user.role})
        auth.set_cookie(resp, request, token, self.service.session_hours)
        self.hub.publish({"type": "queue"})
        return resp

    async def form_login(self, request: Request) -> HTTPResponse:
        form = request.form or {}
        refusal = await self._login(request, form.get("username"), form.get("password"))
        if refusal is not None:
            return pages.login_page(status=refusal.status, error=_message_of(refusal))
        token, _csrf, user = request.ctx.login
        resp = response.redirect(pages.home(user.role), status=303)
        auth.set_cookie(resp, request, token, self.service.session_hours)
        return resp

    async def form_logout(self, request: Request) -> HTTPResponse:
        await self.db(self.console().end_session, request.ctx.token)
        resp = response.redirect("/console", status=303)
        del resp.cookies[auth.COOKIE]
        return resp

    async def api_logout(self, request: Request) -> HTTPResponse:
        await self.db(self.console().end_session, request.ctx.token)
        resp = _json({"ok": True})
        del resp.cookies[auth.COOKIE]
        return resp

    async def api_me(self, request: Request) -> HTTPResponse:
        s = request.ctx.console
        return _json({"username": s.username, "display_name": s.display_name, "role": s.role, "csrf_token": s.csrf_token})

    # ---- the queue ----------------------------------------------------------------------------

    def _row(self, state: HandoffState) -> Dict[str, Any]:
        now = self.console().now()
        return {
            "conversation_id": state.conversation_id,
            "state": state.state,
            "reason": state.reason,
            "urgent": state.urgent,
            "waiting_seconds": state.waiting_seconds(now),
            "queued_at": state.queued_at.isoformat(timespec="seconds") + "Z" if state.queued_at else None,
            "agent": state.agent,
            "channel": state.channel,
            "case_id": state.case_id,
            "message_left": state.message_left_at is not None,
        }

    async def api_handoffs(self, request: Request) -> HTTPResponse:
        wanted = request.args.get("state")
        if wanted not in (None, h.QUEUED, h.CLAIMED):
            raise ApiError(422, "bad_state", "state 只能是 queued 或 claimed。")
        states = await self.db(self.console().handoffs, wanted)
        return _json([self._row(s) for s in states])

    async def _state(self, conversation_id: str) -> HandoffState:
        if not CONVERSATION_ID.fullmatch(conversation_id or "") and not re.fullmatch(r"[\w.:@-]{1,128}", conversation_id or ""):
            raise ApiError(404, "not_found", "没有这个对话。")
        return await self.db(self.console().state, conversation_id)

    async def _tracker(self, conversation_id: str) -> Any:
        agent = self.rasa_agent()
        if agent is None:
            return None
        try:
            return await agent.tracker_store.retrieve(conversation_id)
        except Exception:
            logger.warning("console: no tracker for %s", conversation_id, exc_info=True)
            return None

    async def card_of(self, conversation_id: str) -> Dict[str, Any]:
        state = await self._state(conversation_id)
        if state.state == h.BOT and state.queued_at is None:
            raise ApiError(404, "not_found", "这个对话没有转过人工。")
        tracker = await self._tracker(conversation_id)
        slots = tracker.current_slot_values() if tracker else {}
        events = [e.as_dict() for e in tracker.events] if tracker else []
        return await self.db(card.build, state, slots, events, self.orders(), self.console(), self.console().now())

    async def api_card(self, request: Request, conversation_id: str) -> HTTPResponse:
        return _json(await self.card_of(conversation_id))

    async def api_draft(self, request: Request, conversation_id: str) -> HTTPResponse:
        """The bot's suggested answer to the latest shopper message, for the agent to edit (#12)."""
        await self.card_of(conversation_id)  # 404 unless it was handed off
        agent, tracker = self.rasa_agent(), await self._tracker(conversation_id)
        if agent is None or tracker is None:
            return _json({"text": None, "hint": "助手现在给不出建议，请直接回复。"})
        return _json(await draft.suggest(agent, tracker))

    async def api_claim(self, request: Request, conversation_id: str) -> HTTPResponse:
        me = request.ctx.console
        await self._state(conversation_id)
        try:
            state = await self.db(self.console().claim, conversation_id, me.username)
        except h.TransitionError as error:
            now = await self.db(self.console().state, conversation_id)
            raise ApiError(409, "not_claimable", "这个对话已被其他客服接待，或已不在排队中。",
                           state=error.current, agent=now.agent) from None
        await self._system(conversation_id, f"人工客服 {me.display_name} 已接入，为您服务。", to_shopper=True)
        self.hub.publish({"type": "queue"})
        return _json(self._row(state))

    async def _mine(self, request: Request, conversation_id: str) -> HandoffState:
        state = await self._state(conversation_id)
        me = request.ctx.console
        if state.state != h.CLAIMED or state.agent != me.username:
            raise ApiError(409, "not_yours", "请先接入这个对话。", state=state.state, agent=state.agent)
        return state

    async def _system(self, conversation_id: str, text: str, to_shopper: bool = False) -> None:
        await self.db(self.console().add_message, conversation_id, "system", "", text)
        widget = self.widget()
        if to_shopper and widget is not None:
            await widget.deliver(conversation_id, "system", {"text": text})
        self.hub.publish({"type": "message", "conversation_id": conversation_id, "sender": "system", "text": text})

    async def api_messages(self, request: Request, conversation_id: str) -> HTTPResponse:
        state = await self._mine(request, conversation_id)
        me = request.ctx.console
        text = await self._expand(_text(_body(request)))
        delivered = False
        widget = self.widget()
        if widget is not None and state.channel == "widget":
            await widget.deliver_agent_message(conversation_id, text, me.display_name)
            delivered = True
        message = await self.db(self.console().add_message, conversation_id, "agent", me.display_name, text)
        self.hub.publish({"type": "message", "conversation_id": conversation_id, "sender": "agent",
                          "author": me.display_name, "text": text})
        return _json({"ok": True, "id": message.id, "text": text, "delivered_live": delivered}, status=201)

    async def _expand(self, text: str) -> str:
        """A message that is just a short code (``/退货地址``) is sent as that canned reply."""
        if CANNED_CODE.fullmatch(text):
            for reply in await self.db(self.console().canned_replies):
                if reply.code == text:
                    return reply.text
        return text

    async def api_notes(self, request: Request, conversation_id: str) -> HTTPResponse:
        await self._state(conversation_id)
        me = request.ctx.console
        text = _text(_body(request))
        note = await self.db(self.console().add_message, conversation_id, "note", me.display_name, text)
        self.hub.publish({"type": "message", "conversation_id": conversation_id, "sender": "note"})
        return _json({"ok": True, "id": note.id}, status=201)

    async def api_typing(self, request: Request, conversation_id: str) -> HTTPResponse:
        state = await self._mine(request, conversation_id)
        on = _body(request).get("on") is True
        widget = self.widget()
        if widget is not None and state.channel == "widget":
            await widget.agent_typing(conversation_id, on)
        return _json({"ok": True})

    async def api_release(self, request: Request, conversation_id: str) -> HTTPResponse:
        me = request.ctx.console
        state = await self._state(conversation_id)
        holder = None if me.role == "manager" else me.username
        try:
            released = await self.db(self.console().release, conversation_id, holder)
        except h.TransitionError as error:
            raise ApiError(409, "not_releasable", "这个对话不在您手上，或已交回助手。", state=error.current) from None
        agent = self.rasa_agent()
        if agent is not None:
            await gate.resume(agent, conversation_id)
        await self._system(conversation_id, "人工客服已结束本次服务，之后由智能助手继续为您服务。", to_shopper=True)
        widget = self.widget()
        if widget is not None and state.state == h.CLAIMED and state.channel == "widget":
            await widget.deliver(conversation_id, "system", {"type": "rating_request"})
        self.hub.publish({"type": "queue"})
        return _json(self._row(released))

    # ---- acting on the case, through the same repository the bot uses --------------------------

    async def _case_id(self, state: HandoffState) -> int:
        if state.case_id:
            return state.case_id
        tracker = await self._tracker(state.conversation_id)
        case_id = tracker.get_slot("case_id") if tracker else None
        if not case_id:
            raise ApiError(409, "no_case", "这个对话还没有售后单，无法操作。")
        return int(case_id)

    async def api_refund(self, request: Request, conversation_id: str) -> HTTPResponse:
        """Approve a refund of an amount: once per case and amount (a retry pays nothing twice)."""
        state = await self._mine(request, conversation_id)
        me = request.ctx.console
        amount = _amount(_body(request))
        case_id = await self._case_id(state)
        orders = self.orders()
        if await self.db(orders.get_case, case_id) is None:
            raise ApiError(409, "no_case", "售后单或订单不存在。")
        grant = Grant(amount, f"console:{case_id}:{amount}", actor=me.display_name)
        try:  # the shop's one refund path: once per key, never beyond what the order paid in all
            recorded = await self.db(orders.grant_on_case, case_id, grant, {"refund_approved_by": me.display_name})
        except RefundLimitExceeded:
            raise ApiError(422, "above_paid", "这笔退款加上已退金额会超过订单实付金额，请核对。") from None
        refund_id, created = recorded.refund.refund_id, recorded.refund_created
        if created:
            await self._system(conversation_id, f"客服 {me.display_name} 批准退款 {amount} 元（售后单 #{case_id}）。")
        return _json({"ok": True, "refund_id": refund_id, "created": created, "amount": f"{amount}"},
                     status=201 if created else 200)

    def _ceiling(self, order: Any) -> Decimal:
        """The most the bargaining engine may offer for this order (R9), for its dearest item."""
        from bot.bargain import make_plan, route_of
        from bot.bargain.config import BargainConfig
        from bot.settings import load_settings

        if self._settings is None:
            self._settings = load_settings()
        config = BargainConfig.from_dict(self._settings.compensation)
        route = route_of(order.shipment)
        return max((make_plan(i.price, i.cost, route, "moderate", config).ceiling for i in order.items),
                   default=Decimal("0"))

    async def api_offer(self, request: Request, conversation_id: str) -> HTTPResponse:
        """Record a compensation offer; above the engine's ceiling only a manager may."""
        state = await self._mine(request, conversation_id)
        me = request.ctx.console
        amount = _amount(_body(request))
        case_id = await self._case_id(state)
        orders = self.orders()
        case = await self.db(orders.get_case, case_id)
        order = await self.db(orders.get_order, case.order_id) if case else None
        if order is None:
            raise ApiError(409, "no_case", "售后单或订单不存在。")
        ceiling = await self.db(self._ceiling, order)
        if amount > ceiling and me.role != "manager":
            raise ApiError(403, "above_ceiling", f"补偿超过上限 {ceiling} 元，需要主管操作。", ceiling=f"{ceiling}")
        rounds = await self.db(orders.offers_for_case, case_id)
        offer_id = await self.db(orders.record_offer, case_id, len(rounds) + 1, "shop", amount,
                                 f"客服 {me.display_name} 提出", "agent_offer")
        await self._system(conversation_id, f"客服 {me.display_name} 记录补偿方案 {amount} 元。")
        return _json({"ok": True, "offer_id": offer_id, "ceiling": f"{ceiling}"}, status=201)

    async def api_promise(self, request: Request, conversation_id: str) -> HTTPResponse:
        state = await self._mine(request, conversation_id)
        data = _body(request)
        text = _text(data, limit=500)
        hours = data.get("hours")
        if type(hours) not in (int, float) or not 0 < hours <= 24 * 30:
            raise ApiError(422, "bad_hours", "期限需要是 1 小时到 30 天之间。")
        due = self.console().now() + timedelta(hours=hours)
        follow_up = await self.db(self.orders().add_follow_up, state.case_id, conversation_id, text, due)
        self.hub.publish({"type": "followups"})
        return _json({"ok": True, "id": follow_up, "due_at": due.isoformat(timespec="minutes") + "Z"}, status=201)

    # ---- follow-ups, canned replies, ratings ---------------------------------------------------

    async def api_followups(self, request: Request) -> HTTPResponse:
        now = self.console().now()
        rows = await self.db(self.console().open_follow_ups)
        return _json([
            {"id": f.id, "conversation_id": f.conversation_id, "case_id": f.case_id, "promise": f.promise,
             "due_at": f.due_at.isoformat(timespec="minutes") + "Z", "overdue": f.due_at < now}
            for f in rows
        ])

    async def api_followup_done(self, request: Request, follow_up_id: int) -> HTTPResponse:
        try:
            done = await self.db(self.orders().mark_follow_up, follow_up_id, done=True)
        except KeyError:
            raise ApiError(404, "not_found", "没有这条待办。") from None
        self.hub.publish({"type": "followups"})
        return _json({"ok": True, "id": done.follow_up_id})

    async def api_canned(self, request: Request) -> HTTPResponse:
        replies = await self.db(self.console().canned_replies)
        return _json([{"code": r.code, "text": r.text, "updated_by": r.updated_by} for r in replies])

    async def api_canned_save(self, request: Request) -> HTTPResponse:
        data = _body(request)
        code, text = _text(data, "code", 31), _text(data, "text")
        if not CANNED_CODE.fullmatch(code):
            raise ApiError(422, "bad_code", "快捷短语需以 / 开头，不含空格，例如 /退货地址。")
        await self.db(self.console().save_canned_reply, code, text, request.ctx.console.display_name)
        return _json({"ok": True, "code": code}, status=201)

    async def api_canned_delete(self, request: Request) -> HTTPResponse:
        code = _text(_body(request), "code", 31)
        if not await self.db(self.console().delete_canned_reply, code):
            raise ApiError(404, "not_found", "没有这个快捷短语。")
        return _json({"ok": True})

    async def api_ratings(self, request: Request) -> HTTPResponse:
        rows = await self.db(self.console().agent_ratings)
        return _json([{"agent": r.agent, "conversation_id": r.conversation_id, "score": r.score,
                       "comment": r.comment, "at": r.at.isoformat(timespec="minutes") + "Z"} for r in rows])

    # ---- presence and live updates ------------------------------------------------------------

    async def api_heartbeat(self, request: Request) -> HTTPResponse:
        await self.db(self.console().heartbeat, request.ctx.console.username)
        return _json({"ok": True})

    async def api_events(self, request: Request) -> None:
        me, token = request.ctx.console, request.ctx.token
        await self.db(self.console().heartbeat, me.username)

        async def alive() -> bool:
            if await self.db(self.console().session, token) is None:
                return False
            await self.db(self.console().heartbeat, me.username)
            return True

        await self.hub.stream(request, alive)

    # ---- pages ---------------------------------------------------------------------------------

    async def queue_page(self, request: Request) -> HTTPResponse:
        states = await self.db(self.console().handoffs, None)
        return pages.render("queue.html", request.ctx.console, rows=[self._row(s) for s in states])

    async def conversation_page(self, request: Request, conversation_id: str) -> HTTPResponse:
        data = await self.card_of(conversation_id)
        canned = await self.db(self.console().canned_replies)
        return pages.render("conversation.html", request.ctx.console, card=data, canned=canned)

    async def followups_page(self, request: Request) -> HTTPResponse:
        now = self.console().now()
        rows = await self.db(self.console().open_follow_ups)
        return pages.render("followups.html", request.ctx.console, rows=rows, now=now)

    async def canned_page(self, request: Request) -> HTTPResponse:
        replies = await self.db(self.console().canned_replies)
        ratings = await self.db(self.console().agent_ratings)
        return pages.render("canned.html", request.ctx.console, replies=replies, ratings=ratings)

    async def static(self, request: Request, name: str) -> HTTPResponse:
        return await pages.static(name)

    async def not_found(self, request: Request, rest: str = "") -> HTTPResponse:
        return _fail(404, "not_found", "没有这个页面。")


def _message_of(resp: HTTPResponse) -> str:
    import json

    try:
        return json.loads(resp.body).get("message", "")
    except Exception:
        return ""


class _Blueprint(Blueprint):
    def register(self, app: Sanic, options: Dict[str, Any]) -> None:
        self.ctx.channel.attach(app)
        super().register(app, options)
