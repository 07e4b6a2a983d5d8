"""The handoff record (R15): what an agent reads so the shopper never repeats the story.

Works on Rasa's tracker events as plain dicts (no Rasa import), so the agent console,
the action server and tests share it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from datetime import time as time_of_day
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional
from zoneinfo import ZoneInfo

from bot.privacy import mask_personal
from bot.text import mask_phone, to_simplified
from bot.topics import TOPIC_NAMES

MAX_LINES = 40


@dataclass(frozen=True)
class Summary:
    reason: str
    text: str


def transcript(events: Iterable[Dict[str, Any]], max_lines: int = MAX_LINES) -> List[str]:
    """The conversation as lines, oldest first, user and bot only."""
    lines = []
    for event in events:
        kind = event.get("event")
        if kind == "user" and event.get("text"):
            lines.append("顾客：" + mask_personal(str(event["text"])[:500]))  # phones masked (#11)
        elif kind == "bot" and event.get("text"):
            lines.append("助手：" + mask_personal(str(event["text"])[:500]))
    return lines[-max_lines:]


def _reason(events: List[Dict[str, Any]], slots: Dict[str, Any]) -> str:
    if slots.get("order_locked"):
        return "身份核对失败三次"
    last_intent: Optional[str] = None
    for event in reversed(events):
        if event.get("event") == "user":
            last_intent = (event.get("parse_data", {}).get("intent") or {}).get("name")
            break
    if last_intent == "ask_human":
        return "顾客要求人工"
    if last_intent == "complain":
        return "顾客投诉"
    if last_intent == "nlu_fallback":
        return "助手多次未能理解"
    if slots.get("pending_request") in TOPIC_NAMES:  # an address to change, an invoice … (bot.topics)
        return f"{TOPIC_NAMES[slots['pending_request']]}：需要人工办理"
    return "需要人工判断"


def summarize(events: Iterable[Dict[str, Any]], slots: Dict[str, Any]) -> Summary:
    """A short header of the known facts, then the transcript."""
    events = list(events)
    facts = []
    if slots.get("verified_order"):
        facts.append(f"订单：{slots['verified_order']}（已核对身份）")
    elif slots.get("order_id"):
        facts.append(f"订单：{slots['order_id']}（未核对身份）")
    if slots.get("phone"):
        facts.append(f"手机：{mask_phone(str(slots['phone']))}")
    if slots.get("pending_request"):
        facts.append(f"诉求：{TOPIC_NAMES.get(slots['pending_request'], slots['pending_request'])}")
    if slots.get("case_id"):
        facts.append(f"售后单：#{int(slots['case_id'])}")
    reason = _reason(events, slots)
    text = "\n".join([f"转人工原因：{reason}", *facts, "—— 对话记录 ——", *transcript(events)])
    return Summary(reason=reason, text=text)


# ---- the handoff's states (issue #12): data, changed only by ConsoleRepository.transition ----

BOT, QUEUED, CLAIMED, CLOSED = "bot", "queued", "claimed", "closed"
STATES = (BOT, QUEUED, CLAIMED, CLOSED)
HUMAN_STATES = frozenset({QUEUED, CLAIMED})  # the bot says nothing in these

# (from, to) -> the name of the move. Nothing else is allowed.
TRANSITIONS: Dict[tuple, str] = {
    (BOT, QUEUED): "request",  # a trigger fired: wait for an agent
    (CLOSED, QUEUED): "request",  # a new request after an earlier human conversation ended
    (QUEUED, CLAIMED): "claim",  # an agent takes it (one agent: conditional UPDATE)
    (CLAIMED, QUEUED): "requeue",  # the agent went offline, or passed it back to the queue
    (CLAIMED, BOT): "release",  # the agent hands back to the bot, slots and case intact
    (QUEUED, BOT): "release",  # an agent or manager returns a waiting conversation to the bot
    (CLAIMED, CLOSED): "close",  # the human conversation is over
    (QUEUED, CLOSED): "close",
}


class TransitionError(Exception):
    """The move is not in TRANSITIONS, or the conversation is no longer where the caller thought."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"cannot go from {current!r} to {wanted!r}")
        self.current = current
        self.wanted = wanted


def sources(target: str) -> List[str]:
    """The states a conversation may be in to move to ``target``."""
    return [src for (src, dst) in TRANSITIONS if dst == target]


def check(current: str, target: str) -> str:
    """The move's name, or TransitionError."""
    try:
        return TRANSITIONS[(current, target)]
    except KeyError:
        raise TransitionError(current, target) from None


# ---- triggers: when the bot must step aside ------------------------------------------------

# Written against data/nlu/ (ask_human, complain, and the greetings that must NOT match:
# 有人吗 / 客服在吗 open a chat, they do not ask for a person); judged on tests/nlu/heldout.yml
# by scripts/measure_triggers.py (README "Handoff": the numbers). Text is simplified first.
ASKS_FOR_PERSON = re.compile(
    r"人工(?!费|成本|智能|合成)|真人|活人|"
    r"(找|叫|要|换|让|联系|转|把|跟|和)[^，。！？,.!?]{0,6}(主管|店长|专员|专人|经理|老板|负责人|做主的|"
    r"小姐姐|小哥哥|工作人员|人来|人说|人谈|人沟通)|"
    r"(不|别|不想|不要)(用|跟|和|再)?(机器人|机器|自动回复|ai\b)|换人|(客服|店长|主管)出来|"
    r"\bhuman\b|real person|\bagent\b",
    re.IGNORECASE,
)
THREATS = re.compile(
    r"(?<!\d)(12315|12345)(?!\d)|消协|消基会|消费者协会|工商|市场监管|监管局|平台介入|申请介入|小二介入|"
    r"投诉|客诉|申诉|维权|曝光|媒体|起诉|律师|法院|报警|差评|负评",
)
ABUSE = re.compile(
    r"骗子|诈骗|骗我|骗人|垃圾|坑人|坑爹|太坑|黑店|烂店|无良|他妈|妈的|tmd|nmd|\bsb\b|傻逼|傻b|滚|去死|混蛋|王八|"
    r"狗屁|气死|很生气|太过分|忍无可忍|什么破|破店|恶心|欺负人|欺骗|倒闭|叫花子|烂透|不满|😡|🤬",
    re.IGNORECASE,
)
FALLBACKS_BEFORE_HUMAN = 2


@dataclass(frozen=True)
class Trigger:
    reason: str  # shown to the agent as 转人工原因
    urgent: bool = False


def trigger_for(text: str, intent: Optional[str] = None, fallbacks_in_a_row: int = 0) -> Optional[Trigger]:
    """Whether this shopper message should bring a person in, and why; None keeps the bot.

    Threats of platform intervention / 12315 / 消协 and abuse come first and are urgent (R17);
    then a request for a person in any words; then two misunderstandings in a row.
    """
    text = to_simplified(str(text or ""))
    if THREATS.search(text):
        return Trigger("顾客要投诉或要求平台介入", urgent=True)
    if ABUSE.search(text) or text.count("！") + text.count("!") >= 3:
        return Trigger("顾客情绪激动", urgent=True)
    if intent == "ask_human" or ASKS_FOR_PERSON.search(text):
        return Trigger("顾客要求人工")
    if fallbacks_in_a_row >= FALLBACKS_BEFORE_HUMAN:
        return Trigger("助手连续两次未能理解")
    return None


def fallbacks_in_a_row(events: Iterable[Dict[str, Any]]) -> int:
    """How many of the shopper's latest messages in a row the NLU could not place."""
    count = 0
    for event in reversed(list(events)):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data", {}).get("intent") or {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


# ---- service hours and the truth told to the shopper ---------------------------------------


@dataclass(frozen=True)
class ServiceSettings:
    """The ``service:`` section of bot/shop.yml: when people answer, and what is above the bot."""

    opens: time_of_day = time_of_day(9, 0)
    closes: time_of_day = time_of_day(22, 0)
    timezone: str = "Asia/Shanghai"
    usual_wait_minutes: int = 3  # per shopper ahead in the queue
    agent_offline_seconds: int = 90  # no heartbeat this long: the agent's chats go back to the queue
    refund_handoff_above: Decimal = Decimal("300")  # a refund above this is an agent's decision
    session_hours: int = 8  # console sessions expire


def load_service(path: Optional[Path] = None) -> ServiceSettings:
    """Read ``service:`` from shop.yml (SHOP_SETTINGS, else bot/shop.yml); a bad value stops start-up."""
    import os

    import yaml

    path = Path(path or os.environ.get("SHOP_SETTINGS") or Path(__file__).resolve().parent / "shop.yml")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw = dict(data.get("service") or {})
    zone = (data.get("shop") or {}).get("timezone", "Asia/Shanghai")
    try:
        opens, closes = (time_of_day.fromisoformat(p.strip()) for p in str(raw.pop("hours", "09:00-22:00")).split("-"))
        settings = ServiceSettings(
            opens=opens,
            closes=closes,
            timezone=zone,
            usual_wait_minutes=int(raw.pop("usual_wait_minutes", 3)),
            agent_offline_seconds=int(raw.pop("agent_offline_seconds", 90)),
            refund_handoff_above=Decimal(str(raw.pop("refund_handoff_above", "300"))),
            session_hours=int(raw.pop("console_session_hours", 8)),
        )
    except (ValueError, TypeError, ArithmeticError) as error:
        raise ValueError(f"{path}: service: {error}") from error
    if raw:
        raise ValueError(f"{path}: service: unknown keys {sorted(raw)}")
    if settings.opens >= settings.closes:
        raise ValueError(f"{path}: service: hours must open before they close")
    return settings


def _local(now_utc: datetime, service: ServiceSettings) -> datetime:
    return now_utc.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(service.timezone))


def in_service_hours(now_utc: datetime, service: ServiceSettings) -> bool:
    local = _local(now_utc, service).time()
    return service.opens <= local < service.closes


def next_opening(now_utc: datetime, service: ServiceSettings) -> datetime:
    """The next time (naive UTC) people answer: now if within hours, else the next opening."""
    if in_service_hours(now_utc, service):
        return now_utc
    local = _local(now_utc, service)
    day = local.date() if local.time() < service.opens else local.date() + timedelta(days=1)
    opening = datetime.combine(day, service.opens, tzinfo=local.tzinfo)
    return opening.astimezone(timezone.utc).replace(tzinfo=None)


def shown_time(moment_utc: datetime, now_utc: datetime, service: ServiceSettings) -> str:
    """今天 / 明天 / 12月3日 with the local hour, as the shopper reads it."""
    local, today = _local(moment_utc, service), _local(now_utc, service).date()
    day = {0: "今天", 1: "明天"}.get((local.date() - today).days, f"{local.month}月{local.day}日")
    return f"{day} {local:%H:%M}"


def handoff_message(
    now_utc: datetime, service: ServiceSettings, agents_online: int, position: int, trigger: Optional[Trigger] = None
) -> str:
    """What the shopper is told when a person is asked for: the truth, never "马上有人" when nobody is there."""
    opening = f"{service.opens:%H:%M}-{service.closes:%H:%M}"
    sorry = "非常抱歉给您带来不好的体验，" if trigger and trigger.urgent else ""
    if agents_online > 0 and in_service_hours(now_utc, service):
        wait = max(1, position) * service.usual_wait_minutes
        ahead = f"您前面还有 {position - 1} 位顾客，" if position > 1 else "您是下一位，"
        return (
            f"{sorry}已为您转接人工客服。{ahead}预计等待约 {wait} 分钟。"
            "我们刚才聊的内容客服都能看到，您不用再重复说明。等待期间我不再自动回复。"
        )
    when = shown_time(next_opening(now_utc, service), now_utc, service)
    why = "现在是非服务时间" if not in_service_hours(now_utc, service) else "现在暂时没有人工客服在线"
    return (
        f"{sorry}{why}（人工服务时间：每天 {opening}），最早 {when} 会有客服接手。"
        "您可以直接在这里留言，说明您的诉求，客服上线后会按留言处理并回复您；我们刚才聊的内容也会一并转交。"
    )


def message_left_reply(due_utc: datetime, now_utc: datetime, service: ServiceSettings) -> str:
    return f"已记录您的留言，客服会在 {shown_time(due_utc, now_utc, service)} 前处理并回复您。"


def refund_needs_person(amount: Any, service: ServiceSettings) -> bool:
    """A refund above the amount in shop.yml is an agent's decision, not the bot's."""
    return amount is not None and Decimal(str(amount)) > service.refund_handoff_above
