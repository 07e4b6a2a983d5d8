"""The trainer's side of the console (issue #14): pages and JSON routes over ``bot.trainer``.

Registered by ``ConsoleInput.blueprint`` through its ``route`` helper, so every route has the same
session cookie, CSRF and 401 rules as the agents' console; these are for trainers and managers
(an agent gets 403), except ``flag``, the agents' "send this message to the trainers".

Where the trainer's work lands: ``TRAINER_PROJECT`` (default: this checkout) holds ``data/``,
``domain.yml`` and ``tests/``; ``TRAINER_MODELS`` (default: its ``models/``) the candidates and
the registry. Every replica follows the registry's active model (``models.follow``), started
with the server and stopped with it.

The library speaks English to programmers; here every refusal is a polite Chinese sentence with a
code, never a stack trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from ruamel.yaml import YAML
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console import auth, pages
from bot.store import db
from bot.trainer import export, models, training, writer
from bot.trainer.inbox import Inbox

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
TRAINER_ROLES = auth.TRAINER_ROLES
MAX_TEXT = 1000
MAX_ENTITIES = 20
REASONS = ("low_confidence", "ambiguous", "before_handoff", "before_low_rating", "flagged")
CONVERSATION = re.compile(r"[\w.:@-]{1,128}")
ITEM = re.compile(r"[0-9a-f]{16}")
RUN = re.compile(r"[\w.-]{1,80}")


class Refusal(Exception):
    """A request we answer with ``{"error": code, "message": 中文}`` and a 4xx status."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def _json(data: Any, status: int = 200) -> HTTPResponse:
    return response.json(data, status=status, ensure_ascii=False, default=str)


def _body(request: Request) -> Dict[str, Any]:
    try:
        data = request.json
    except Exception:  # noqa: BLE001 - any unreadable body is the same polite refusal
        data = None
    if data is None and not (request.body or b"").strip():
        return {}
    if not isinstance(data, dict):
        raise Refusal(400, "bad_json", "请求体需要是 JSON 对象。")
    return data


def _text(data: Dict[str, Any], key: str = "text", limit: int = MAX_TEXT) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise Refusal(422, f"bad_{key}", "请输入要处理的文字。")
    if len(value) > limit:
        raise Refusal(422, f"bad_{key}", f"文字太长了，请不要超过 {limit} 字。")
    return value.strip()


def _flag(value: Optional[str]) -> Optional[bool]:
    if value in (None, ""):
        return None
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise Refusal(422, "bad_filter", "筛选条件只能是 true 或 false。")


def refusal_of(reason: str) -> Tuple[str, str]:
    """The writer's English reason as (code, polite Chinese sentence) for the trainer."""
    found = re.match(r"already an example of (\w+)", reason)
    if found:
        return "duplicate_example", f"这句话已经是意图「{found.group(1)}」的例句了，无需重复添加。"
    found = re.match(r"a message of the test set (\S+)", reason)
    if found:
        return "test_set_example", f"这句话在测试集 {found.group(1).rstrip(':')} 里，模型不能用它训练。"
    if reason.startswith("no file in data/nlu"):
        return "no_intent_file", "数据里还没有这个意图的例句文件，请先手工添加这个意图。"
    if reason.startswith("nothing left to learn"):
        return "nothing_to_learn", "去掉个人信息后，这句话没有可学的内容了。"
    if reason.startswith("entity "):
        return "bad_entity", "实体的位置超出了这句话，或与另一个实体重叠，请重新标记。"
    if reason.startswith("rasa data validate failed"):
        return "validation_failed", "训练数据校验（rasa data validate）没有通过，什么都没有保存。"
    return "save_refused", "这条标注没有保存，请查看原因后再试。"


@lru_cache(maxsize=4)
def domain_entities(project: Path) -> List[str]:
    data = YAML(typ="safe").load((project / "domain.yml").read_text(encoding="utf-8")) or {}
    return sorted(e if isinstance(e, str) else next(iter(e)) for e in data.get("entities") or [])


class TrainerRoutes:
    """The handlers; ``channel`` is the console's ``ConsoleInput`` (its app, its thread helper)."""

    def __init__(
        self, channel: Any, project: Optional[Path] = None, models_dir: Optional[Path] = None
    ) -> None:
        self.channel = channel
        self.project = Path(project or os.environ.get("TRAINER_PROJECT") or ROOT)
        self.models = Path(models_dir or os.environ.get("TRAINER_MODELS") or models.MODELS)
        self._inbox: Optional[Inbox] = None
        self._engine: Any = None
        self._follow: Optional[asyncio.Task] = None

    # ---- what the handlers work with ------------------------------------------------------

    def engine(self) -> Any:
        if self._engine is None:
            self._engine = db.make_engine()  # the tracker store lives in the shop's database
        return self._engine

    def inbox(self) -> Inbox:
        if self._inbox is None:
            self._inbox = Inbox(self.engine(), self.engine(), project=self.project)
        return self._inbox

    def intents(self) -> List[str]:
        return writer.domain_intents(self.project)

    def app(self) -> Sanic:
        app = self.channel.app
        if app is None or getattr(app.ctx, "agent", None) is None:
            raise Refusal(503, "no_model", "服务器还没有加载模型，请稍后再试。")
        return app

    async def db(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    @staticmethod
    def me(request: Request) -> str:
        return request.ctx.console.username

    # ---- the inbox --------------------------------------------------------------------------

    async def api_intents(self, request: Request) -> HTTPResponse:
        return _json(
            {"intents": await self.db(self.intents), "entities": await self.db(domain_entities, self.project)}
        )

    async def api_inbox(self, request: Request) -> HTTPResponse:
        reason, intent, query = request.args.get("reason"), request.args.get("intent"), request.args.get("q")
        if reason and reason not in REASONS:
            raise Refusal(422, "bad_filter", "没有这个筛选原因。")
        try:
            limit = int(request.args.get("limit", "200"))
        except ValueError:
            raise Refusal(422, "bad_filter", "limit 需要是数字。") from None
        items = await self.db(self.inbox().items, 30, 10_000)
        picked = [
            i
            for i in items
            if (not reason or reason in i["reasons"])
            and (not intent or i["intent"] == intent)
            and (not query or query in i["text"])
        ]
        return _json(picked[: max(1, min(limit, 500))])

    async def api_item(self, request: Request, item_id: str) -> HTTPResponse:
        item = await self.db(self.inbox().item, item_id) if ITEM.fullmatch(item_id) else None
        if item is None:
            raise Refusal(404, "not_found", "收件箱里没有这条消息（可能已被别人处理）。")
        return _json(item)

    def _entities(self, raw: Any) -> List[Dict[str, Any]]:
        if raw is None:
            return []
        known = domain_entities(self.project)
        if not isinstance(raw, list) or len(raw) > MAX_ENTITIES:
            raise Refusal(422, "bad_entities", f"entities 需要是列表，最多 {MAX_ENTITIES} 个。")
        out = []
        for entity in raw:
            if (
                not isinstance(entity, dict)
                or type(entity.get("start")) is not int
                or type(entity.get("end")) is not int
            ):
                raise Refusal(422, "bad_entities", "每个实体需要有 start、end（整数）和 entity。")
            if entity.get("entity") not in known:
                raise Refusal(422, "unknown_entity", f"没有这个实体类型：{str(entity.get('entity'))[:40]}。")
            out.append({"start": entity["start"], "end": entity["end"], "entity": entity["entity"]})
        return out

    async def api_annotate(self, request: Request, item_id: str) -> HTTPResponse:
        data = _body(request)
        intent = data.get("intent")
        if not isinstance(intent, str) or intent not in await self.db(self.intents):
            raise Refusal(422, "unknown_intent", "没有这个意图，请从列表中选择。")
        entities = self._entities(data.get("entities"))
        if not ITEM.fullmatch(item_id):
            raise Refusal(404, "not_found", "收件箱里没有这条消息（可能已被别人处理）。")
        try:
            result = await self.db(self.inbox().annotate, item_id, intent, entities, self.me(request))
        except KeyError:
            raise Refusal(404, "not_found", "收件箱里没有这条消息（可能已被别人处理）。") from None
        except writer.SaveRefused as refused:
            code, message = refusal_of(refused.reason)
            raise Refusal(422, code, message, reason=refused.reason) from None
        return _json(
            {
                "ok": True,
                "added": [{"file": f, "line": line} for f, line in result.added],
                "skipped": [{"text": t, "reason": r} for t, r in result.skipped],
                "commit": result.commit,
            }
        )

    async def api_discard(self, request: Request, item_id: str) -> HTTPResponse:
        if not ITEM.fullmatch(item_id) or await self.db(self.inbox().item, item_id) is None:
            raise Refusal(404, "not_found", "收件箱里没有这条消息（可能已被别人处理）。")
        await self.db(self.inbox().discard, item_id, self.me(request))
        return _json({"ok": True})

    async def api_flag(self, request: Request, conversation_id: str) -> HTTPResponse:
        """An agent sends one of the shopper's messages to the trainers (it joins the inbox)."""
        if not CONVERSATION.fullmatch(conversation_id):
            raise Refusal(404, "not_found", "没有这个对话。")
        data = _body(request)
        text, note = _text(data), data.get("note") or ""
        if not isinstance(note, str) or len(note) > 500:
            raise Refusal(422, "bad_note", "备注请不要超过 500 字。")
        flag_id = await self.db(self.inbox().flag, conversation_id, text, self.me(request), note.strip())
        return _json({"ok": True, "id": flag_id}, status=201)

    # ---- conversation review ---------------------------------------------------------------

    async def api_conversations(self, request: Request) -> HTTPResponse:
        args = request.args
        try:
            max_rating = int(args["max_rating"][0]) if args.get("max_rating") else None
        except ValueError:
            raise Refusal(422, "bad_filter", "评分需要是 1 到 5 的数字。") from None
        query, intent = args.get("q") or "", args.get("intent") or None
        found = await self.db(
            self.inbox().search,
            handed_off=_flag(args.get("handed_off")),
            fell_back=_flag(args.get("fell_back")),
            max_rating=max_rating,
            intent=intent,
        )
        return _json([c for c in found if query in c["conversation_id"]][:200])

    async def api_conversation(self, request: Request, conversation_id: str) -> HTTPResponse:
        turns = (
            await self.db(self.inbox().conversation, conversation_id)
            if CONVERSATION.fullmatch(conversation_id)
            else []
        )
        if not turns:
            raise Refusal(404, "not_found", "没有这个对话。")
        return _json({"conversation_id": conversation_id, "turns": turns})

    async def api_export(self, request: Request, conversation_id: str) -> HTTPResponse:
        if not CONVERSATION.fullmatch(conversation_id):
            raise Refusal(404, "not_found", "没有这个对话。")
        folder = self.project / "tests" / "conversations"
        try:
            path = await self.db(export.export, self.engine(), conversation_id, folder=folder)
        except KeyError:
            raise Refusal(404, "not_found", "这个对话里没有顾客的消息，无法导出。") from None
        return _json(
            {
                "ok": True,
                "path": str(path.relative_to(self.project)),
                "story": path.read_text(encoding="utf-8"),
            },
            status=201,
        )

    # ---- training and models ---------------------------------------------------------------

    async def api_train(self, request: Request) -> HTTPResponse:
        run_id = await self.db(training.start, self.project, self.models, trainer=self.me(request))
        return _json({"id": run_id, "state": "queued"}, status=202)

    async def api_runs(self, request: Request) -> HTTPResponse:
        return _json(await self.db(training.runs, self.models))

    async def api_run(self, request: Request, run_id: str) -> HTTPResponse:
        state = await self.db(training.status, run_id, self.models) if RUN.fullmatch(run_id) else None
        if state is None:
            raise Refusal(404, "not_found", "没有这次训练。")
        return _json(state)

    async def api_models(self, request: Request) -> HTTPResponse:
        listed = await self.db(models.list_models, self.models)
        agent = getattr(self.channel.app.ctx, "agent", None) if self.channel.app is not None else None
        processor = getattr(agent, "processor", None)
        running = models.model_name(Path(processor.model_path)) if processor is not None else None
        for model in listed:
            model.pop("served_file", None)
            model["running"] = model["name"] == running  # what this server runs (a replica may lag a moment)
        return _json(listed)

    async def api_activate(self, request: Request, name: str) -> HTTPResponse:
        data = _body(request)
        me = request.ctx.console
        reason = data.get("override_reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
            raise Refusal(422, "bad_override_reason", "越过检查的理由请写成 500 字以内的文字。")
        if reason and me.role != "manager":
            raise Refusal(403, "manager_only", "只有主管可以越过上线检查。")
        app = self.app()
        try:
            switched = await models.promote(
                app,
                name,
                actor=me.username,
                models=self.models,
                override_by=me.username if reason else None,
                override_reason=reason or "",
            )
        except KeyError:
            raise Refusal(404, "not_found", "没有这个模型。") from None
        except models.GateClosed as closed:
            raise Refusal(
                409,
                "gate_closed",
                "这个模型没有通过上线检查：有意图的 F1 下降超过 2 个百分点，或有原来通过的对话测试现在失败。",
                reasons=closed.reasons,
                can_override=me.role == "manager",
            ) from None
        return _json({"ok": True, **switched})

    async def api_restore(self, request: Request) -> HTTPResponse:
        app = self.app()
        try:
            restored = await models.restore(app, request.ctx.console.username, self.models)
        except KeyError:
            raise Refusal(409, "no_previous", "没有可以恢复的上一个模型。") from None
        return _json({"ok": True, **restored})

    async def api_parse(self, request: Request) -> HTTPResponse:
        text = _text(_body(request))
        return _json(await models.parse(self.app(), text))

    # ---- pages ------------------------------------------------------------------------------

    async def inbox_page(self, request: Request) -> HTTPResponse:
        return pages.render(
            "trainer_inbox.html",
            request.ctx.console,
            intents=await self.db(self.intents),
            entities=await self.db(domain_entities, self.project),
            reasons=REASONS,
        )

    async def review_page(self, request: Request) -> HTTPResponse:
        return pages.render("trainer_review.html", request.ctx.console, intents=await self.db(self.intents))

    async def models_page(self, request: Request) -> HTTPResponse:
        return pages.render("trainer_models.html", request.ctx.console)

    async def try_page(self, request: Request) -> HTTPResponse:
        return pages.render("trainer_try.html", request.ctx.console)

    # ---- the follower ------------------------------------------------------------------------

    async def start_following(self, app: Sanic, _loop: Any = None) -> None:
        """Every replica runs the registry's active model (``make cluster``: both switch)."""
        interval = float(os.environ.get("TRAINER_FOLLOW_SECONDS", "2"))
        if interval > 0:
            self._follow = asyncio.ensure_future(models.follow(app, self.models, interval=interval))

    async def stop_following(self, app: Sanic, _loop: Any = None) -> None:
        if self._follow is not None:
            self._follow.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follow
            self._follow = None


def _refusals(handler: Callable[..., Any]) -> Callable[..., Any]:
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        try:
            return await handler(request, *args, **kwargs)
        except Refusal as refusal:
            return _json(
                {"error": refusal.code, "message": refusal.message, **refusal.extra}, status=refusal.status
            )

    wrapped.__name__ = handler.__name__
    return wrapped


def register(bp: Blueprint, route: Callable[..., None], channel: Any) -> TrainerRoutes:
    """Add the trainer's pages and API to the console's blueprint (before its catch-all)."""
    t = TrainerRoutes(channel)

    def add(
        handler: Any, uri: str, method: str = "GET", roles: tuple = TRAINER_ROLES, **options: Any
    ) -> None:
        route(
            _refusals(handler),
            uri,
            method,
            roles=roles,
            changes=method == "POST",
            name=f"trainer_{handler.__name__}",
            **options,
        )

    for handler, uri in [
        (t.inbox_page, "/trainer"),
        (t.review_page, "/trainer/review"),
        (t.models_page, "/trainer/models"),
        (t.try_page, "/trainer/try"),
    ]:
        add(handler, uri, page=True)
    add(t.api_intents, "/api/intents")
    add(t.api_inbox, "/api/inbox")
    add(t.api_item, "/api/inbox/<item_id>")
    add(t.api_annotate, "/api/inbox/<item_id>/annotate", "POST")
    add(t.api_discard, "/api/inbox/<item_id>/discard", "POST")
    add(t.api_flag, "/api/handoffs/<conversation_id>/flag", "POST", roles=auth.CONSOLE_ROLES)
    add(t.api_conversations, "/api/conversations")
    add(t.api_conversation, "/api/conversations/<conversation_id>")
    add(t.api_export, "/api/conversations/<conversation_id>/export", "POST")
    add(t.api_train, "/api/training", "POST")
    add(t.api_runs, "/api/training")
    add(t.api_run, "/api/training/<run_id>")
    add(t.api_models, "/api/models")
    add(t.api_restore, "/api/models/restore", "POST")
    add(t.api_activate, "/api/models/<name>/activate", "POST")
    add(t.api_parse, "/api/parse", "POST")
    bp.listener("after_server_start")(t.start_following)
    bp.listener("before_server_stop")(t.stop_following)
    return t
