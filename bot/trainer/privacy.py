"""Personal data out of trainers' screens and out of training data.

Two different needs: a screen shows a message *masked* (138****0001, so an agent can still
tell two numbers apart), while training data gets *placeholders* that look real (a mobile
number, a 16-digit order number, 某某) so the model keeps learning the shape of a message
and no shopper's data is ever committed. Names are caught where the message says it is a
name (我叫…, 收件人…); addresses where they have a street and a number.
"""

from __future__ import annotations

import re
import unicodedata

from bot import text as zh

PHONE_PLACEHOLDER = "13800000000"
ORDER_PLACEHOLDER = "2024010100000001"
NAME_PLACEHOLDER = "某某"
ADDRESS_PLACEHOLDER = "某某路1号"

# a name announced as one: 我叫王小明 / 收件人：李四 / 姓名 张三丰
NAME_RE = re.compile(r"(?P<lead>我叫|我是|本人|收件人|收货人|联系人|姓名|名字叫|名字是|我的名字是|寄件人)"
                     r"(?P<sep>[:：\s]*)(?P<name>[\u4e00-\u9fff]{2,3})(?=$|[^\u4e00-\u9fff]|的|先生|女士|小姐)")
ADDRESS_RE = re.compile(r"(?:(?![到在是寄送发住])[\u4e00-\u9fff]){0,12}(?:路|街|道|巷|弄|村)\s*\d+\s*(?:号|號)(?:\s*\d+\s*(?:栋|棟|幢|单元|室|楼|樓)?)*")
_BRIDGE = {"我是": ("客服", "买家", "本人", "新", "老", "第")}  # 我是买家 is not a name


def _name(match: "re.Match[str]", replacement: str) -> str:
    name = match.group("name")
    if match.group("lead") == "我是" and name.startswith(_BRIDGE["我是"]):
        return match.group(0)
    return match.group("lead") + match.group("sep") + replacement


def mask_for_screen(text: str) -> str:
    """What the inbox shows: phones and order numbers half-hidden, names and addresses hidden.

    The length never changes, so an entity a trainer selects on the screen has the same
    character span in the original message (which only the writer sees, to replace it).
    """
    if not text:
        return text
    text = zh.MOBILE_RE.sub(lambda m: zh.mask_phone(m.group(0)), text)
    text = zh.ORDER_ID_RE.sub(lambda m: m.group(0)[:4] + "********" + m.group(0)[-4:], text)
    text = NAME_RE.sub(lambda m: _name(m, "*" * len(m.group("name"))), text)
    return ADDRESS_RE.sub(lambda m: "*" * len(m.group(0)), text)


def placeholders(text: str) -> str:
    """What may enter training data: every phone, order number, name and address replaced."""
    if not text:
        return text
    text = zh.MOBILE_RE.sub(PHONE_PLACEHOLDER, text)
    text = zh.ORDER_ID_RE.sub(ORDER_PLACEHOLDER, text)
    text = NAME_RE.sub(lambda m: _name(m, NAME_PLACEHOLDER), text)
    return ADDRESS_RE.sub(ADDRESS_PLACEHOLDER, text)


_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


def normalise(text: str) -> str:
    """The key two examples share when they say the same thing: duplicates are found by it.

    Annotations are reduced to their text, Traditional becomes Simplified, case, width,
    whitespace and punctuation are ignored, and personal data counts as its placeholder.
    """
    text = _ANNOTATION.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text or "")
    text = placeholders(zh.to_simplified(unicodedata.normalize("NFKC", text))).lower()
    return "".join(c for c in text if not (c.isspace() or unicodedata.category(c)[0] in "PS"))
