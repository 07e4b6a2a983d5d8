"""Chinese text helpers: script conversion, money amounts, masking."""

from decimal import Decimal

import pytest

from bot import text as zh


@pytest.mark.parametrize(
    "message, amount",
    [
        ("至少50", 50),
        ("五十块", 50),
        ("十五块钱", 15),
        ("两百", 200),
        ("¥20", 20),
        ("￥25吧", 25),
        ("20块钱", 20),
        ("30行不行", 30),
        ("给我补二十我就不退了", 20),
        ("至少賠我五十塊", 50),
        ("八块五", Decimal("8.5")),
        ("3.5元", Decimal("3.5")),
        ("一百二十元", 120),
        ("才10块太少了", 10),
    ],
)
def test_amounts_in_any_form(message, amount):
    assert zh.parse_amount(message) == Decimal(amount)


@pytest.mark.parametrize(
    "message",
    ["订单1001000000000001", "尾号6621", "手机后四位0004", "42码", "等了3天", "我买了两件", "翻倍", "再加点", ""],
)
def test_numbers_that_are_not_money(message):
    assert zh.parse_amount(message) is None


def test_require_unit_ignores_bare_numbers():
    assert zh.parse_amount("30行不行", require_unit=True) is None
    assert zh.parse_amount("30块行不行", require_unit=True) == 30


def test_amount_span_points_at_the_words():
    start, end, value = zh.find_amount("那就补个三十块吧")
    assert "那就补个三十块吧"[start:end] == "三十块" and value == 30


@pytest.mark.parametrize(
    "message, script",
    [
        ("顏色跟圖片不一樣", zh.TRADITIONAL),
        ("我的訂單到哪了", zh.TRADITIONAL),
        ("多謝", zh.TRADITIONAL),
        ("颜色跟图片不一样", zh.SIMPLIFIED),
        ("谢谢", zh.SIMPLIFIED),
        ("hello", zh.SIMPLIFIED),
        ("", zh.SIMPLIFIED),
    ],
)
def test_detect_script(message, script):
    assert zh.detect_script(message) == script


def test_round_trip_of_a_reply():
    reply = "您好，颜色问题我们来处理，请发一张照片"
    assert zh.in_script(reply, zh.SIMPLIFIED) == reply
    traditional = zh.in_script(reply, zh.TRADITIONAL)
    assert traditional != reply and "顏色" in traditional
    assert zh.to_simplified(traditional) == reply


def test_conversation_script_skips_messages_without_chinese():
    assert zh.conversation_script(["我要退貨", "1001000000000004"]) == zh.TRADITIONAL
    assert zh.conversation_script(["我要退货", "0004"]) == zh.SIMPLIFIED
    assert zh.conversation_script([]) == zh.SIMPLIFIED


def test_a_message_the_same_in_both_scripts_keeps_the_shoppers_script():
    assert zh.conversation_script(["毛衣顏色跟圖片差好多", "好的", "0004", "拍不了照片"]) == zh.TRADITIONAL
    assert zh.conversation_script(["颜色差好多", "好的"]) == zh.SIMPLIFIED
    assert zh.conversation_script(["好的"]) == zh.SIMPLIFIED  # nothing shown yet: the shop's default
    assert zh.conversation_script(["顏色不對", "我要退货"]) == zh.SIMPLIFIED  # the latest script shown wins


@pytest.mark.parametrize(
    "phone, masked",
    [("13800000001", "138****0001"), ("6621", "****"), ("", ""), (None, "")],
)
def test_mask_phone(phone, masked):
    assert zh.mask_phone(phone) == masked
