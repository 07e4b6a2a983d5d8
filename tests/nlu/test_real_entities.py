"""Entities as real shoppers type them (issue #13, point 7).

The frames are real messages of the JD corpus (data/real/messages.tsv); the numbers in them
are written the ways shoppers paste them: grouped by spaces or dashes, after "订单号：",
in full-width digits, with a +86 country code. Unit tests of the normalisation need no
model; the end-to-end cases parse with the trained model (built by `make test`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.text import find_amount, normalize_numbers

MODEL = Path(__file__).resolve().parents[2] / "models" / "assistant.tar.gz"
ORDER = "2018000010004642"
MOBILE = "13800000001"


@pytest.mark.parametrize(
    "typed",
    [
        "订单号: 2018000010004642 给我安排退货吧",
        "订单号：2018 0000 1000 4642 给我安排退货吧",
        "订单号:2018-0000-1000-4642 给我安排退货吧",
        "订单号：２０１８００００１０００４６４２ 给我安排退货吧",
        "订单号 2018 0000 1000 4642给我安排退货吧",
    ],
)
def test_order_numbers_as_pasted_become_one_number(typed):
    assert ORDER in normalize_numbers(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "让确认人员打我这个号码:138 0000 0001",
        "让确认人员打我这个号码:138-0000-0001",
        "让确认人员打我这个号码:+86 13800000001",
        "让确认人员打我这个号码:８６１３８０００００００１",
    ],
)
def test_phone_numbers_with_separators_become_one_number(typed):
    assert MOBILE in normalize_numbers(typed)


@pytest.mark.parametrize("kept", ["[数字x]号下单的 2018-03-05", "买了 2 件 50 100 块", "差价12.5 元"])
def test_dates_counts_and_amounts_are_not_joined(kept):
    assert normalize_numbers(kept) == kept


@pytest.mark.parametrize(
    "message, value",
    [
        ("我垫付的运费是12元，补偿会全额补偿吧", 12),
        ("会不会十五块全额补偿", 15),
        ("差价是贰拾元", 20),
        ("退的差价不对了，少了五毛", 0.5),
        ("至少补1百块吧", 100),
        ("补个10块8块的就行", 10),
        ("刚买就降了¥30", 30),
        ("才给3元，那是不是得有所赔偿", 3),
    ],
)
def test_amounts_in_every_written_form(message, value):
    found = find_amount(normalize_numbers(message))
    assert found is not None and float(found[2]) == value


def test_a_count_of_coupons_is_not_money():
    assert find_amount("赔3张券") is None


@pytest.fixture(scope="module")
def agent():
    if not MODEL.exists():
        pytest.skip("no trained model (make model)")
    from rasa.core.agent import Agent

    return Agent.load(str(MODEL))


def _entities(agent, text):
    result = asyncio.run(agent.parse_message(text))
    return {(e["entity"], str(e["value"])) for e in result["entities"]}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("订单号：2018 0000 1000 4642 给我安排退货吧", ("order_id", ORDER)),
        ("订单号:２０１８００００１０００４６４２ 给我安排退货吧", ("order_id", ORDER)),
        ("对了，那个订单的手机号码填错了，让确认人员打我这个号码:138-0000-0001", ("phone", MOBILE)),
        ("手机尾号：６６２１", ("phone", "6621")),
        ("我在收货信息栏备注要蓝色的了，可是还是发成粉红色的了", ("color", "粉红色")),
        ("这个衣服是换货，让后把尺码换成XL号的", ("size", "XL")),
        ("我今天收到的回力雨鞋尺码42码偏大", ("size", "42码")),
        ("我垫付的运费是12元，补偿会全额补偿吧", ("amount", "12")),
    ],
)
def test_entities_from_real_messages(agent, text, expected):
    assert expected in _entities(agent, text)


def test_a_grouped_order_number_is_not_read_as_money(agent):
    entities = _entities(agent, "订单号 2018-0000-1000-4642 这个订单咋还不发货啊")
    assert ("order_id", ORDER) in entities
    assert not any(name == "amount" for name, _ in entities)
