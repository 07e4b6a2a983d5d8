"""What the shopper is asking for, named independently of the NLU's intent names."""

from __future__ import annotations

import re
from typing import Dict, List, Optional

from bot.topics import TOPIC_REQUESTS

# intent (../shared/INTENTS.md) -> request handled by the after-sales policy
INTENT_REQUESTS: Dict[str, str] = {
    "check_order_status": "status",
    "shipping_delay": "delay",
    "lost_package": "lost",
    "request_return": "return",
    "request_refund_only": "refund_only",
    "request_exchange": "exchange",
    "color_mismatch": "color_mismatch",
    "size_mismatch": "size_mismatch",
    "quality_issue": "quality_issue",
    "wrong_item": "wrong_item",
    "warranty_repair": "warranty",
    "keep_with_compensation": "compensation",
    "complain": "complaint",
}


def request_for_intent(intent: Optional[str]) -> Optional[str]:
    """The request an intent stands for (an after-sales request or a topic of ``bot.topics``),
    or None (greetings, order numbers, ...)."""
    return INTENT_REQUESTS.get(intent or "") or TOPIC_REQUESTS.get(intent or "")


# R13: what kind of fault the shopper describes. Only a real performance failure
# (e.g. a disk that cannot be formatted) opens the 7-day return for a hard disk; noise does not.
_FAULTS = (
    ("cannot_format", ("格式化", "无法识别", "识别不了", "读不出", "读不了")),
    ("noise", ("异响", "噪音", "有响声", "咔咔", "滋滋")),
    ("missing", ("少了", "漏发", "少发", "缺了", "没有配件")),
    ("performance", ("坏了", "不能用", "用不了", "开不了机", "开不开机", "不工作", "不转", "没反应",
                     "死机", "黑屏", "充不进电", "不出风", "不加热", "不制热", "没声音")),
)


def fault_from_text(texts: "list[str]") -> Optional[str]:
    """The fault the shopper describes in their (Simplified) messages, most specific first."""
    joined = " ".join(texts)
    for fault, words in _FAULTS:
        if any(w in joined for w in words):
            return fault
    return None


# What a message like "颜色有色差，不退了给点补偿" says the problem is (R9 needs to know).
_PROBLEMS = (
    ("color_mismatch", ("色差", "颜色", "偏色", "褪色", "掉色")),
    ("size_mismatch", ("尺码", "码数", "偏大", "偏小", "大了", "小了", "太大", "太小", "不合身")),
    ("complaint", ("态度", "服务", "客服")),
    ("quality_issue", ("瑕疵", "线头", "开线", "脱线", "污渍", "脏", "划痕", "起球", "破", "小问题", "质量")),
)


def problem_from_text(text: str) -> Optional[str]:
    """The problem a (Simplified) message names, as a request value, or None."""
    for problem, words in _PROBLEMS:
        if any(w in text for w in words):
            return problem
    return None


# ---- two problems in one message (issue #13 point 5) -----------------------------------
# "鞋子还没到，而且颜色好像也不对": one case per request (issue #10), so the first is handled and
# the second is remembered and started once the first needs nothing more from the shopper.
# A cheap reading: the message is cut into clauses and each clause is matched against the
# words of each problem kind; only a *problem* in another clause counts as a second request
# (in "尺码小了，想换大一码" the size is the reason for the exchange, not a second case).
PROBLEM_KINDS = ("delay", "lost", "wrong_item", "quality_issue", "color_mismatch", "size_mismatch")
_CLAUSE_BREAK = re.compile(r"[，,。．.！!？?；;…~～\s]+|而且|并且|另外|还有|同时|再就是|再说")
_CLAUSE_PROBLEMS = (
    ("lost", ("丢件", "丢了", "弄丢", "签收了但", "显示签收", "没收到却")),
    ("delay", ("还没到", "没到货", "还没收到", "没收到", "没有收到", "还没发货", "没发货", "不发货", "物流没动",
               "物流不动", "没动", "没有物流", "不更新", "没更新", "太慢", "好几天了", "怎么还没", "迟迟")),
    ("wrong_item", ("发错", "少发", "漏发", "少了一", "缺了一", "不是我买的", "款式不对", "型号不对", "多发")),
    ("color_mismatch", ("色差", "颜色", "偏色", "掉色", "褪色")),
    ("size_mismatch", ("尺码", "码数", "偏大", "偏小", "太大", "太小", "大了", "小了", "不合脚", "不合身", "挤脚")),
    ("quality_issue", ("质量", "坏了", "坏的", "破了", "破损", "开线", "脱线", "开胶", "瑕疵", "划痕", "污渍", "起球",
                       "不能用", "用不了", "开不了机", "裂了", "断了", "漏水", "异味")),
)
PROBLEM_NAMES = {
    "delay": "还没收到货的问题",
    "lost": "包裹丢失的问题",
    "wrong_item": "发错货的问题",
    "quality_issue": "质量问题",
    "color_mismatch": "颜色的问题",
    "size_mismatch": "尺码的问题",
}


def clauses(text: str) -> List[str]:
    """The message cut at punctuation and at 而且 / 还有 / 另外 …, empty pieces dropped."""
    return [c for c in _CLAUSE_BREAK.split(text) if len(c) >= 2]


def problems_in(text: str) -> List[str]:
    """The problem kinds a (Simplified) message names, in the order its clauses name them, once each."""
    found: List[str] = []
    for clause in clauses(text):
        for kind, words in _CLAUSE_PROBLEMS:
            if kind not in found and any(w in clause for w in words):
                found.append(kind)
                break  # one kind per clause: the most specific listed first
    return found


def second_request(text: str, first: Optional[str]) -> Optional[str]:
    """A second problem the message names besides the request being handled, or None.

    Only when the request being handled is itself a problem (a delay, a defect …): a return or an
    exchange names its reason, which is the same case."""
    if first not in PROBLEM_KINDS:
        return None
    others = [k for k in problems_in(text) if k != first]
    return others[0] if others else None


# ---- anger (R17), read from the words and the punctuation --------------------------------
_ANGRY_WORDS = ("愣是", "凭什么", "到底", "说好的", "不说", "还说", "居然", "竟然", "简直", "太离谱", "离谱",
                "无语", "受不了", "什么意思", "怎么回事", "有没有搞错", "搞什么", "坑", "不负责", "推来推去",
                "浪费", "忽悠", "敷衍", "失望", "气人", "生气", "火大", "多少次", "几次了", "一直没人")


def anger(text: str) -> int:
    """0 calm, 1 upset (some angry words or ！/？？), 2 strongly angry (several signs, or a long
    message with angry words and exclamation). Threats and abuse are bot.handoff's triggers."""
    signs = sum(w in text for w in _ANGRY_WORDS)
    shouts = text.count("！") + text.count("!") + text.count("？？") + text.count("??")
    score = signs + min(shouts, 2)
    if score >= 3 or (len(text) > 40 and signs >= 1 and shouts >= 1):
        return 2
    return 1 if score >= 1 else 0


def apology(text: str, problem: Optional[str] = None) -> Optional[str]:
    """R17 in plain words for an upset shopper: sorry, what we understood, and (strong anger) a person.

    None for a calm message: a canned apology on every turn is not listening."""
    level = anger(text)
    if level == 0:
        return None
    about = f"您说的{PROBLEM_NAMES[problem]}，" if problem in PROBLEM_NAMES else ""
    words = f"真的很抱歉，让您这么折腾。{about}我来跟进到底。"
    if level >= 2:
        words += "如果您更想直接和同事说，点“转人工客服”我马上转过去，刚才说的不用再重复。"
    return words


def followup_plan(text: str, current: Optional[str], awaiting: Optional[str],
                  remembered: Optional[str]) -> "tuple[Optional[str], Optional[str]]":
    """"那颜色的问题呢": (the problem to take up now, the problem to remember for after it).

    The problem the (Simplified) message names, else the one remembered from an earlier message;
    a case still waiting for the shopper is remembered in its place, so nothing is dropped."""
    named = problems_in(text)
    target = named[0] if named else remembered
    if target is None:
        return None, None
    unfinished = current in PROBLEM_KINDS and current != target and awaiting
    return target, (current if unfinished else (remembered if remembered != target else None))


# A two-way question answered in words instead of with its buttons ("补发吧", "还是退钱吧"): the
# words for each side, per question (``awaiting``). affirm = the first button, deny = the second.
_CHOICES: Dict[str, Dict[str, "re.Pattern[str]"]] = {
    # R1: the parcel has not left; does the shopper still want the item?
    "still_wants": {
        "affirm": re.compile(r"还要|要的|要啊|继续发|照常发|正常发|发货吧|发吧|先发"),
        "deny": re.compile(r"不要|不想要|退款|退钱|取消|退了吧|算了"),
    },
    # R11: the courier lost the parcel; send it again, or refund?
    "reship": {
        "affirm": re.compile(r"补发|重发|重新发|再发|重新寄|再寄|寄一个|发一个|发个新的|换个快递"),
        "deny": re.compile(r"退款|退钱|退了吧|不要了|不用发|不用再发|直接退"),
    },
}


def choice_answer(awaiting: Optional[str], text: str) -> Optional[str]:
    """"affirm" or "deny" when ``text`` picks one side of the pending two-way question, else None.

    Words for both sides ("不要退款，补发") or for neither leave the message to the NLU's reading."""
    sides = _CHOICES.get(awaiting or "")
    if not sides or not text:
        return None
    picked = [side for side, words in sides.items() if words.search(text)]
    return picked[0] if len(picked) == 1 else None


# "我上次买的电吹风坏了" while another order is proven: the shopper is talking about another order
_OTHER_ORDER = re.compile(r"上次买的|之前买的|以前买的|另一单|另外一单|另一个订单|另外一个订单|别的订单|另一笔|另外一笔|还有一单")


def other_item(text: str, order_items: "list[str]", catalogue: "list[str]") -> Optional[str]:
    """What the message says about an order other than the proven one, or None when nothing.

    The name of goods the shop sells that the proven order does not hold ("电吹风" while the order
    is an electric kettle), or "" for words that point at another order without naming the goods
    (上次买的, 另一单). A message that names the proven order's own goods is about that order.
    """
    if not text or any(word in text for name in order_items for word in _words_for(name)):
        return None
    named = [name for name in catalogue if name not in order_items and any(w in text for w in _words_for(name))]
    if named:
        return max(named, key=len)
    return "" if _OTHER_ORDER.search(text) else None


def _words_for(name: str) -> "list[str]":
    """How a shopper may call goods: the whole name or its last characters (电热水壶: 热水壶, 水壶)."""
    name = (name or "").strip()
    return [w for w in {name, name[-3:], name[-2:]} if len(w) >= 2]
