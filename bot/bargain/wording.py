"""How the engine says things: polite Chinese with 您, an apology first, and a reason for
every amount (R9: never a bare number; R17: acknowledge in plain words, not one canned
line). Each message kind has a few phrasings; a seedable ``random.Random`` picks one.

Written in Simplified; the action layer renders it in the shopper's script.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Optional, Sequence

from bot.bargain.state import Negotiation

PROBLEM = {
    "color_mismatch": "{item}的颜色和页面图片有差异",
    "small_flaw": "{item}有个小瑕疵",
    "size_slightly_off": "{item}的尺码和您预期的有点偏差",
    "service_fault": "我们客服这次的服务没让您满意",
}
DEFAULT_PROBLEM = "{item}让您用得不太满意"

APOLOGY = (
    "真的非常抱歉，{problem}，给您添麻烦了。",
    "很抱歉，{problem}，这是我们没做好。",
    "先跟您说声对不起：{problem}，让您失望了。",
)
COLOR_NOTE = (
    "不同屏幕显示的颜色会有些偏差，但让您收到和预期不一样的颜色，还是我们描述得不够准确。",
    "手机和电脑屏幕显色各不相同，不过没能让您提前看准颜色，是我们的不足。",
)
KEEP = (
    "如果不影响正常使用、您也愿意留下的话，",
    "如果东西还能正常用，您又愿意留着，",
)
OPENING_REASON = {
    "same_city": (
        "您和我们{origin}仓在同一个城市，参照同城单程运费，给您补偿 {amount} 元",
        "按同城寄一趟的单程运费，给您补偿 {amount} 元",
    ),
    "same_province": (
        "参照这单{route}的省内单程运费，给您补偿 {amount} 元",
        "按省内寄一趟的单程运费，给您补偿 {amount} 元",
    ),
    "other_province": (
        "按这单{route}的单程运费，给您补偿 {amount} 元",
        "参照这单从{origin}寄到{dest}的单程运费，给您补偿 {amount} 元",
    ),
    "margin": (
        "这款{item}本身价格很实惠、利润不高，我们尽力给您补偿 {amount} 元",
        "{item}定价本来就比较实在，参照运费标准，我们能给您补偿 {amount} 元",
    ),
}
GENERIC_REASON = ("按寄一趟的单程运费标准，给您补偿 {amount} 元",)
ASK = ("您看可以吗？", "您看这样可以接受吗？", "不知道您觉得合适吗？")
ALT_SHIPPING = (
    "当然，您要是更想退货或换货，来回运费都由我们承担。",
    "如果您更希望退货或换货，也没问题，运费我们来出。",
)
CONCESSION = {
    "high_value": (
        "考虑到{item}价格较高，我们再多补一些，给您提高到 {amount} 元",
        "{item}价格不低，让您遇到这种情况更不应该，补偿给您提高到 {amount} 元",
    ),
    "service_fault": (
        "这次确实是我们服务没做好，为表歉意，补偿给您提高到 {amount} 元",
        "是我们的服务让您受委屈了，再多补一些，给您 {amount} 元",
    ),
    "margin": (
        "这款{item}利润本来就薄，我们尽量再加一点，给您 {amount} 元",
        "{item}的利润空间不大，不过还是想让您满意，补偿提高到 {amount} 元",
    ),
    "default": (
        "理解您的心情，这件事也耽误了您的时间，我们再让一步，给您补偿 {amount} 元",
        "体谅您收到{item}时的失望，我们再多补一点，给您 {amount} 元",
        "您的感受我们能理解，补偿给您提高到 {amount} 元",
    ),
}
UNDERSTAND = ("理解您的想法。", "明白您的意思。", "您的心情我能理解。")
FINAL_NOTE = ("这已经是这单能给到的最高补偿了。", "这是我们在这单上能做到的最大限度了。")
ACCEPTED = (
    "好的，就按 {amount} 元给您补偿，补偿款会按原支付方式退回给您。再次抱歉给您添了麻烦！",
    "没问题，给您补偿 {amount} 元，款项按原支付方式退回。谢谢您的理解，有问题随时找我。",
    "好的，已为您登记 {amount} 元的补偿，会按原支付方式退回。给您带来不便，真的很抱歉。",
)
MET = (
    "好的，就按您说的 {amount} 元给您补偿，补偿款会按原支付方式退回。谢谢您的体谅！",
    "可以的，{amount} 元我们同意，款项会按原支付方式退回给您。再次抱歉给您添了麻烦。",
)
ABOVE_CEILING = (
    "非常理解您的想法，不过 {ask} 元超出了这单能给的补偿范围，再高我们实在承担不了。"
    "目前能给您的是 {offer} 元，您看可以吗？",
    "很抱歉，{ask} 元我们确实给不了，这单的利润空间有限。现在能给您的补偿是 {offer} 元，您考虑一下？",
)
ABOVE_CEILING_RAISED = (
    "非常理解您的想法，不过 {ask} 元超出了这单能给的补偿范围，再高我们实在承担不了。"
    "为表诚意，我们再让一步，给您提高到 {offer} 元，您看可以吗？",
    "很抱歉，{ask} 元我们确实给不了，这单的利润空间有限。不过考虑到给您添了麻烦，补偿可以提高到 {offer} 元，您考虑一下？",
)
HELD = (
    "真的很抱歉，{offer} 元已经是这单能给到的最高补偿了，没办法再加了。您看可以接受吗？",
    "我们已经尽力了，{offer} 元是这单的上限，再多实在给不了。您看这样可以吗？",
)
ALTERNATIVES_FINAL = (
    "很抱歉，补偿这块我们已经尽力了，最多能给到 {offer} 元，这个方案仍然有效，您回复“好的”我就为您办理。"
    "如果您还是觉得不合适，也可以退货或换货（运费由我们承担），或者我帮您转人工客服。",
    "真的不好意思，{offer} 元已经是这单的最高补偿，您愿意的话回复“好的”就行。"
    "不然我们也可以为您办理退货或换货，运费我们来出；或者为您转接人工客服。",
)
ALTERNATIVES_DECLINED = (
    "好的，尊重您的决定。那您看这样：可以退货或换货，来回运费都由我们承担；需要的话我也可以帮您转人工客服。",
    "明白了。那我们为您办理退货或换货吧，运费由我们承担；或者您想和人工客服聊聊，我马上帮您转接。",
)
INVALID = {
    "negative": (
        "补偿金额不能是负数哦。您期望补偿多少呢？直接告诉我一个金额就行，比如“15 元”。",
        "这个金额好像写成负数了～您想要多少补偿呢？",
    ),
    "zero": (
        "0 元的话就相当于不需要补偿了。您是不需要补偿了吗？如果是，回复“不要了”就好；否则告诉我您期望的金额。",
        "您说的是 0 元吗？如果不需要补偿，回复“不要了”；需要的话告诉我一个金额就行。",
    ),
    "above_price": (
        "{ask} 元已经超过{item}本身的价格（{price} 元）了。如果您想全额退款，可以选择退货，运费由我们承担。",
        "这个金额比{item}的售价 {price} 元还高，补偿没法这样算哦。您想全额退款的话可以退货，运费我们来出。",
    ),
    "not_a_number": (
        "抱歉，我没看明白您说的金额，能直接告诉我一个数字吗？比如“15 元”。",
        "不好意思，这个金额我没看懂。您期望补偿多少元呢？",
    ),
}
CLARIFY = (
    "我没太明白您的意思～现在给您的补偿是 {offer} 元，您看可以吗？觉得不合适也可以直接告诉我您期望的金额。",
    "不好意思，我没理解清楚。目前的方案是补偿您 {offer} 元，您接受吗？或者说说您的想法。",
)
ESCALATED = (
    "好的，马上为您转接人工客服。刚才的协商记录（目前给您的补偿是 {offer} 元）会一起转过去，您不用再重复说明。",
    "没问题，这就为您转人工客服，之前谈的情况（目前补偿 {offer} 元）同事都能看到，您不用再说一遍。",
)
SETTLED = {
    "accepted": (
        "这单的补偿已经谈好了：{agreed} 元，已经为您登记，不会重复退款。还有其他需要帮忙的吗？",
        "补偿 {agreed} 元已经为您办理好了，不会重复发放哦。还有别的问题吗？",
    ),
    "escalated": (
        "这件事已经转给人工客服处理了，之前的记录他们都能看到，请稍等他们联系您。",
        "人工客服已经接手了，协商记录都转过去了，您不用再重复说明。",
    ),
    "offer": (
        "这次补偿协商已经结束了，我们最后给您的方案是补偿 {offer} 元，回复“好的”我就为您办理；"
        "也可以选择退货或换货（运费我们承担），或者转人工客服。",
        "这次协商已经结束，补偿不能再重新谈了；我们最后的方案是 {offer} 元，您接受的话回复“好的”。"
        "也可以退货或换货，运费由我们承担。",
    ),
    "nothing": (
        "这单没办法单独补偿，不过可以为您办理退货或换货，来回运费都由我们承担，或者帮您转人工客服。",
        "这单补偿确实给不了，真的抱歉；您要退货或换货的话运费我们来出，需要的话也可以转人工客服。",
    ),
}
NO_COMPENSATION = (
    "这款{item}定价已经很实惠，实在没有空间再单独补偿了，真的抱歉。"
    "不过我们可以为您办理退货或换货，来回运费都由我们承担；需要的话，我也可以帮您转人工客服。",
    "{item}的价格本来就压得很低，这次没办法另外补偿，还请您谅解。"
    "我们可以为您退货或换货，运费全部由我们承担，或者为您转接人工客服。",
)


def money(amount: Optional[Decimal]) -> str:
    """12 rather than 12.00; 8.5 stays 8.5."""
    if amount is None:
        return ""
    return f"{amount.normalize():f}" if amount % 1 else str(int(amount))


def _pick(rng: random.Random, variants: Sequence[str]) -> str:
    return rng.choice(list(variants))


def _fill(template: str, neg: Negotiation, **values: object) -> str:
    """Fill the common placeholders (item, route, origin) plus the given amounts."""
    route = f"从{neg.origin}发到{neg.dest}" if neg.origin and neg.dest else ""
    common = {
        "item": neg.item_name,
        "origin": neg.origin,
        "dest": neg.dest,
        "route": route,
        "price": money(neg.price),
        "offer": money(neg.offer),
        "agreed": money(neg.agreed),
    }
    common.update({k: money(v) if isinstance(v, Decimal) else v for k, v in values.items()})
    return template.format(**common)


def apology(neg: Negotiation, rng: random.Random) -> str:
    """The apology that comes before any amount (R9, R17)."""
    problem = PROBLEM.get(neg.kind, DEFAULT_PROBLEM).format(item=neg.item_name)
    text = _pick(rng, APOLOGY).format(problem=problem)
    if neg.kind == "color_mismatch":
        text += _pick(rng, COLOR_NOTE)  # R10: screens render colours differently
    return text


def _opening_reason(neg: Negotiation, rng: random.Random) -> str:
    """Why the opening is this amount; phrasings naming cities only when the cities are known."""
    variants = OPENING_REASON.get(neg.basis, OPENING_REASON["other_province"])
    known = neg.origin and neg.dest
    usable = [v for v in variants if known or not any(f in v for f in ("{origin}", "{dest}", "{route}"))]
    return _fill(_pick(rng, usable or GENERIC_REASON), neg, amount=neg.offer)


def opening(neg: Negotiation, rng: random.Random) -> str:
    """Apology, why this amount, the question, and the return/exchange alternative (R9)."""
    return (
        apology(neg, rng)
        + _pick(rng, KEEP)
        + _opening_reason(neg, rng)
        + "，"
        + _pick(rng, ASK)
        + _pick(rng, ALT_SHIPPING)
    )


def no_compensation(neg: Negotiation, rng: random.Random) -> str:
    return apology(neg, rng) + _fill(_pick(rng, NO_COMPENSATION), neg)


def concession(neg: Negotiation, rng: random.Random, final: bool) -> str:
    """A higher offer, with the reason it went up (price, service fault, or goodwill)."""
    if neg.high_value and neg.offer > neg.opening:
        key = "high_value"
    elif neg.kind in CONCESSION:
        key = neg.kind
    else:
        key = "margin" if neg.basis == "margin" else "default"
    text = _pick(rng, UNDERSTAND) + _fill(_pick(rng, CONCESSION[key]), neg, amount=neg.offer) + "。"
    if final:
        text += _pick(rng, FINAL_NOTE)
    return text + _pick(rng, ASK)


def accepted(neg: Negotiation, rng: random.Random, met: bool) -> str:
    return _fill(_pick(rng, MET if met else ACCEPTED), neg, amount=neg.agreed)


def above_ceiling(neg: Negotiation, rng: random.Random, ask: Decimal, raised: bool = False) -> str:
    """Decline politely, say what we can give (raised a step or restated) and the alternative."""
    return _fill(_pick(rng, ABOVE_CEILING_RAISED if raised else ABOVE_CEILING), neg, ask=ask) + _pick(
        rng, ALT_SHIPPING
    )


def held(neg: Negotiation, rng: random.Random) -> str:
    return _fill(_pick(rng, HELD), neg)


def alternatives(neg: Negotiation, rng: random.Random, after_decline: bool) -> str:
    return _fill(_pick(rng, ALTERNATIVES_DECLINED if after_decline else ALTERNATIVES_FINAL), neg)


def invalid(neg: Negotiation, rng: random.Random, reason: str, ask: Optional[Decimal]) -> str:
    return _fill(_pick(rng, INVALID.get(reason, INVALID["not_a_number"])), neg, ask=ask)


def clarify(neg: Negotiation, rng: random.Random) -> str:
    return _fill(_pick(rng, CLARIFY), neg)


def escalated(neg: Negotiation, rng: random.Random) -> str:
    return _fill(_pick(rng, ESCALATED), neg)


def settled(neg: Negotiation, rng: random.Random) -> str:
    """What a finished negotiation says when spoken to again: the last position."""
    if neg.status == "accepted":
        key = "accepted"
    elif neg.status == "escalated":
        key = "escalated"
    else:
        key = "offer" if neg.offer > 0 else "nothing"
    return _fill(_pick(rng, SETTLED[key]), neg)
