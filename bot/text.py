"""Chinese text helpers: script detection and conversion, money amounts, masking.

Built on maintained libraries (OpenCC for script conversion, cn2an for numerals)
rather than hand-made tables, so that 顏色/颜色 and 十五块/15块 behave the same
way everywhere: in the NLU pipeline, in the actions and in the bargaining engine.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Optional, Tuple

import cn2an
import opencc

SIMPLIFIED = "zh-Hans"
TRADITIONAL = "zh-Hant"


@cache
def _converter(config: str) -> opencc.OpenCC:
    """OpenCC converters are costly to build and thread-safe to share."""
    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """Traditional (Taiwan/HK usage included) to Simplified."""
    return _converter("t2s").convert(text) if text else text


def to_traditional(text: str) -> str:
    """Simplified to Traditional, Taiwan standard with its phrasing (t2s reverses it)."""
    return _converter("s2twp").convert(text) if text else text


def detect_script(text: str, simplified: Optional[str] = None) -> str:
    """Which script the shopper wrote in.

    Compares the text with its Simplified conversion: characters that change are
    Traditional-only forms. Text with no Chinese, or with characters common to both
    scripts only, counts as Simplified (the shop's default). A caller that has already
    converted the text passes ``simplified`` so the conversion is not done twice.
    """
    if not text:
        return SIMPLIFIED
    if simplified is None:
        simplified = to_simplified(text)
    changed = sum(1 for a, b in zip(text, simplified, strict=False) if a != b)
    if changed == 0:
        return SIMPLIFIED
    back = to_traditional(simplified)
    # Mostly-Simplified text with one stray form (e.g. a copied product name) stays Simplified.
    simplified_only = sum(1 for a, b in zip(text, back, strict=False) if a != b and a == to_simplified(a))
    return TRADITIONAL if changed >= simplified_only else SIMPLIFIED


def in_script(text: str, script: str) -> str:
    """Render a reply (written in Simplified) in the shopper's script."""
    return to_traditional(text) if script == TRADITIONAL else text


# ---- money --------------------------------------------------------------------------

_CN_DIGITS = "零〇一二两三四五六七八九十百千万壹贰叁肆伍陆柒捌玖拾佰仟"
_UNIT = r"(?:块钱|块|塊錢|塊|元|圆|圓|rmb|RMB|人民币)"
# The numbers shoppers type, by shape (the same shapes as the regexes in data/nlu/).
ORDER_ID_RE = re.compile(r"(?<!\d)\d{16}(?!\d)")
MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
PHONE_TAIL_RE = re.compile(r"(?<!\d)\d{4}(?!\d)")
TRACKING_NO_RE = re.compile(r"(?i)(?<![a-z0-9])(?:sf|yt|zto|jdv?|yd|sto|ems|jt|dpk)\d{10,15}(?!\d)")

# Numbers as shoppers paste them: full-width digits (２０２４…), order numbers and phones cut
# into groups by spaces or dashes (2024 0518 1234 5678, 138-1234-5678), a +86 country code.
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋", "0123456789+")
_GROUPED = re.compile(r"(?<![\d.])\d{2,6}(?:[ \u00a0\-–—_·]{1,2}\d{2,6}){1,5}(?![\d.])")
_COUNTRY_CODE = re.compile(r"(?<![\d+])(?:\+86|0086|86)[ \u00a0\-]?(?=1[3-9]\d{9}(?!\d))")


def normalize_numbers(text: str) -> str:
    """Full-width digits to ASCII; grouped order numbers and mobiles joined; +86 dropped.

    Only digit groups that join into an order number (16 digits) or a mobile number
    (1[3-9] + 9 digits) are joined, so dates (2024-05-18), amounts and counts stay as typed.
    """
    if not text:
        return text
    text = text.translate(_FULLWIDTH)

    def join(match: "re.Match[str]") -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return digits if ORDER_ID_RE.fullmatch(digits) or MOBILE_RE.fullmatch(digits) else match.group(0)

    return _COUNTRY_CODE.sub("", _GROUPED.sub(join, text))


_AMOUNT_RE = re.compile(
    r"(?:(?P<cur>[¥￥])\s*)?"
    r"(?P<num>\d+[十百千万](?:[" + _CN_DIGITS + r"]+)?|\d+(?:\.\d{1,2})?|[" + _CN_DIGITS + r"]+(?:点[" + _CN_DIGITS + r"]+)?)"
    r"\s*(?P<unit>" + _UNIT + r")?"
    r"(?P<jiao>[一二三四五六七八九\d][毛角]?(?![\d一二三四五六七八九十百千]))?"
)
_ORDERISH = re.compile(r"\d{7,}")  # order numbers and phones are not money


def _to_number(raw: str) -> Optional[Decimal]:
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return Decimal(raw)
    try:
        value = cn2an.cn2an(raw.replace("两", "二"), "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


_NOT_MONEY_AFTER = re.compile(r"\s*(?:遍|声|聲|码|碼|天|号|號|年|月|日|个|個|件|次|小时|小時|分|周|週|斤|公斤|克|寸|cm|CM|米|岁|歲|楼|樓|层|層|单|單|%|％|折|倍|点|點|G|g|kg|KG|ml|ML|张|張|条|條|双|雙|台|瓶|盒|包|袋|箱|本|支|只|把|套)")
_JIAO_ONLY = re.compile(r"\s*(?:毛|角)")  # 5毛, 五毛钱: tenths of a 元
_NOT_MONEY_BEFORE = re.compile(r"(?:尾号|尾號|后四位|後四位|后4位|後4位|号码|號碼|订单|訂單|单号|單號|手机|手機|电话|電話)\D{0,3}$")


def find_amount(text: str, require_unit: bool = False) -> Optional[Tuple[int, int, Decimal]]:
    """The first amount of money in ``text``: (start, end, value in 元), or None.

    Understands digits and Chinese numerals, with or without a unit:
    ``50``, ``五十元``, ``十五块钱``, ``两百``, ``¥20``, ``20块钱``, ``三十塊``, ``八块五``.
    Numbers that are plainly something else are skipped: order numbers and phones
    (long digit runs), phone tails (尾号6621), sizes and counts (42码, 3天, 2件).
    With ``require_unit`` a bare number without ¥ or 元/块 is ignored too.
    Offsets refer to ``text`` as given (OpenCC's t2s keeps the length).
    """
    if not text:
        return None
    simplified = to_simplified(text)
    if len(simplified) != len(text):
        simplified = text
    for match in _AMOUNT_RE.finditer(simplified):
        value = _match_value(simplified, match, require_unit)
        if value is not None:
            return match.start(), match.end(), value
    return None


def _match_value(text: str, match: "re.Match[str]", require_unit: bool) -> Optional[Decimal]:
    num = match.group("num")
    has_unit = bool(match.group("cur") or match.group("unit"))
    if num.isdigit() and _ORDERISH.fullmatch(num):
        return None
    if not has_unit:
        if require_unit or num == "十" or num in ("一", "两", "二"):
            return None  # 一下, 两件, 十天: counts, not money
        if num.isdigit() and len(num) >= 5:
            return None  # 12315 (a hotline), 5000 (words): no one haggles in five digits without 元
        if _NOT_MONEY_AFTER.match(text, match.end()) or _NOT_MONEY_BEFORE.search(text[: match.start()]):
            return None
    value = _to_number(num)
    if value is None:
        return None
    if not has_unit and _JIAO_ONLY.match(text, match.end()):
        return (value / 10).quantize(Decimal("0.01")).normalize()
    jiao = match.group("jiao")
    if jiao and re.match(r"\s*(?:块|塊|元|圆|圓)", text[match.end():]):
        jiao = None  # 10块8块: two amounts, not ten yuan eight jiao
    if jiao and match.group("unit"):
        digit = _to_number(jiao[0])
        if digit is not None:
            value += digit / 10
    return value.quantize(Decimal("0.01")).normalize() if value % 1 else value.to_integral()


def parse_amount(text: str, require_unit: bool = False) -> Optional[Decimal]:
    """The value of the first amount of money in ``text`` (see ``find_amount``)."""
    found = find_amount(text, require_unit)
    return found[2] if found else None


def mask_phone(phone: Optional[str]) -> str:
    """138****0001: what logs and screens may show of a phone number."""
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:] if len(digits) > 7 else "***" + digits[-4:]


_HAN = re.compile(r"[\u4e00-\u9fff]")


def conversation_script(user_texts: "list[str]") -> str:
    """The script of the shopper's most recent message that shows one.

    A reply to "1001000000000004", "好的" or "拍不了照片" (the same in both scripts) still
    follows the script the shopper used before.
    """
    for text in reversed(user_texts):
        if text and _HAN.search(text):
            simplified = to_simplified(text)
            if simplified != text or to_traditional(text) != text:
                return detect_script(text, simplified)
    return SIMPLIFIED


def _both_scripts(text: str) -> str:
    """One round trip through both scripts: 着/著 and the like do not convert back alike."""
    return to_simplified(to_traditional(text))


def unsaid(variants: "list[str]", recent: "list[str]") -> "list[int]":
    """Indexes of the phrasings not used in ``recent`` (the assistant's last messages, either script).

    A phrasing counts as used when its words before the first placeholder ("已记下您的退货单号
    {tracking}…") appear in one of those messages. All of them when every phrasing was used.
    """
    said = [_both_scripts(t) for t in recent if t]
    fresh = [i for i, v in enumerate(variants)
             if not any(_both_scripts(v.split("{", 1)[0][:24] or v) in s for s in said)]
    return fresh or list(range(len(variants)))

