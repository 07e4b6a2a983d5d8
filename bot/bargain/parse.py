"""What the shopper's message means for the negotiation: accept, decline, a counter-offer…

Reads Simplified and Traditional alike (OpenCC) and amounts in any form
(``bot.text.find_amount``: 50, 五十块, 八块五, ¥20). The tricky cases are the ones
where a number is *not* a counter-offer: "才10块太少了" quotes the shop's offer to
complain about it, "再加5块" is relative to it, "一百万个赞" is not money at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import List, Optional, Tuple

import cn2an

from bot.text import find_amount, to_simplified

ACCEPT, DECLINE, COUNTER, MORE, HUMAN, INVALID, UNCLEAR = (
    "accept",
    "decline",
    "counter",
    "more",
    "human",
    "invalid",
    "unclear",
)

_HUMAN = re.compile(r"人工|真人|转客服|找客服|换个客服|主管|经理|投诉")
_DOUBLE = re.compile(r"翻倍|翻一番|双倍|加倍|两倍|2倍|乘以?[2二]|[x×*]\s*2")
_COMPLAIN = re.compile(r"太少|少了|不够|这么少|那么少|就这|打发|抠|寒酸|太低|低了|塞牙缝|没诚意|不值")
_QUOTE_BEFORE = re.compile(r"(?:才|只|就|仅)(?:给|补|赔|退|返)?(?:我)?\s*$")
_RELATIVE_BEFORE = re.compile(r"(?:再|多)(?:加|给|补|赔|涨)(?:我)?(?:个)?\s*$")
_NEGATIVE_BEFORE = re.compile(r"(?:[-−－]|负)\s*$")
_MORE = re.compile(
    r"再加|加点|加一点|加些|多给|多补|多赔|多点|多一点|再多|提高|高一点|高点|再给|再涨|涨点|还能再"
    r"|能不能多|可以多|再补|补多点"
)
_DECLINE_STRONG = re.compile(
    r"算了|不要了|不用了|不需要了?|不补了|不用补|不要补偿|我要退货|还是退货|退货吧|换货吧"
    r"|我要换货|还是换货|直接退"
)
_REJECT = re.compile(r"不行|不可以|不好|不同意|不接受|不满意|不太行|不合适|没法接受|不能接受|不答应|不太满意")
_DECLINE_WEAK = re.compile(r"不要")
_ACCEPT = re.compile(
    r"好的|好吧|好呀|好啊|^好|可以|行|成交|同意|接受|没问题|^ok|^嗯|就这样|那就这样|收下|满意"
)
# "给我补十我就不退了": a bare 十/二 that find_amount leaves alone (十天, 二楼) is money after 补/赔.
_BARE_CN_AMOUNT = re.compile(
    r"(?:补|赔|给|要|至少|最少|最低)(?:我|个)?([零〇一二两三四五六七八九十百千万]+)(?![\u4e00-\u9fff]?[码天号年月日个件次岁楼层单折倍点斤克])"
)
_NOT_MONEY = re.compile(
    r"[\d零〇一二两三四五六七八九十百千万]+\s*(?:码|天|号|年|月|日|个|件|次|遍|句|岁|楼|层|单|折|倍"
    r"|点|下|些|会|斤|克|小时|分钟|周|星期|cm|kg)"
)
_NUMERAL = re.compile(r"\d|[零〇两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟]")


@dataclass(frozen=True)
class Move:
    """The shopper's move. ``amount`` for counters; ``reason`` for invalid amounts."""

    kind: str
    amount: Optional[Decimal] = None
    reason: str = ""


def _amounts(text: str) -> List[Tuple[int, int, Decimal]]:
    """Every amount in the text, in order (find_amount finds the first)."""
    found = _find_all(text)
    if not found:
        found = _bare_chinese(text)
    return found


def _bare_chinese(text: str) -> List[Tuple[int, int, Decimal]]:
    """Chinese numerals with no unit, after a money verb: 补十, 赔二十五."""
    hits = []
    for match in _BARE_CN_AMOUNT.finditer(text):
        try:
            value = Decimal(str(cn2an.cn2an(match.group(1).replace("两", "二"), "smart")))
        except (ValueError, KeyError, IndexError, TypeError):
            continue
        hits.append((match.start(1), match.end(1), value))
    return hits


def _find_all(text: str) -> List[Tuple[int, int, Decimal]]:
    found, offset = [], 0
    while offset < len(text):
        hit = find_amount(text[offset:])
        if hit is None:
            break
        start, end, value = hit
        found.append((offset + start, offset + end, value))
        offset += max(end, start + 1)
    return found


def _amount_move(text: str, offer: Decimal, price: Decimal) -> Optional[Move]:
    """A move read from the amounts in the text, or None when there is no amount."""
    hits = _amounts(text)
    if not hits:
        return None
    complaining = bool(_COMPLAIN.search(text))
    asks: List[Decimal] = []
    for start, _end, value in hits:
        before = text[:start]
        if _NEGATIVE_BEFORE.search(before):
            return Move(INVALID, -value, "negative")
        if _RELATIVE_BEFORE.search(before) and value > 0:
            asks.append(offer + value)  # 再加5块: five more than the offer
        elif value <= offer and (complaining or _QUOTE_BEFORE.search(before)):
            continue  # 才10块太少了: quoting our offer, not asking for 10
        else:
            asks.append(value)
    if not asks:
        return Move(MORE)
    ask = asks[-1]  # "不要10，要20": the last amount is the ask
    if ask == 0:
        return Move(INVALID, ask, "zero")
    if ask > price:
        return Move(INVALID, ask, "above_price")
    return Move(COUNTER, ask)


def interpret(text: str, offer: Decimal, price: Decimal) -> Move:
    """Read one shopper message against the standing ``offer`` for an item of ``price``.

    Order matters: a human request and "翻倍" win over everything; an amount wins over
    yes/no words ("30行不行" is a counter, not a refusal); giving up ("算了") wins over
    asking for more; a refusal ("不行") is a request for more, not the end.
    """
    simple = to_simplified(text or "").strip().lower()
    if not simple:
        return Move(UNCLEAR)
    if _HUMAN.search(simple):
        return Move(HUMAN)
    if _DOUBLE.search(simple):
        return Move(COUNTER, offer * 2) if offer * 2 <= price else Move(INVALID, offer * 2, "above_price")
    by_amount = _amount_move(simple, offer, price)
    if by_amount is not None:
        return by_amount
    return _word_move(simple)


def _keep_big(match: "re.Match[str]") -> str:
    """Drop small counts (十天, 一下) but keep big numbers (一百万个赞): those aim at money."""
    number = re.match(r"[\d零〇一二两三四五六七八九十百千万]+", match.group(0)).group(0)
    big = any(c in number for c in "百千万") or (number.isdigit() and len(number) >= 3)
    return match.group(0) if big else ""


def _word_move(simple: str) -> Move:
    """A move from words alone: no usable amount in the message."""
    if _DECLINE_STRONG.search(simple):
        return Move(DECLINE)
    if _MORE.search(simple) or _COMPLAIN.search(simple):
        return Move(MORE)
    if _DECLINE_WEAK.search(simple):
        return Move(DECLINE)
    if _REJECT.search(simple):
        return Move(MORE)
    if _ACCEPT.search(simple):
        return Move(ACCEPT)
    if _NUMERAL.search(_NOT_MONEY.sub(_keep_big, simple)):
        return Move(INVALID, None, "not_a_number")
    return Move(UNCLEAR)
