"""Reading a request's message: a second problem (issue #13 point 5) and anger (R17, point 6)."""

from __future__ import annotations

import pytest

from bot.requests import anger, apology, choice_answer, clauses, other_item, problems_in, second_request


def test_clauses_are_cut_at_punctuation_and_connectives():
    assert clauses("鞋子还没到，而且颜色好像也不对") == ["鞋子还没到", "颜色好像也不对"]
    assert clauses("衣服开线了还有点色差") == ["衣服开线了", "点色差"]


@pytest.mark.parametrize(
    "text, first, second",
    [
        ("鞋子还没到，而且颜色好像也不对", "delay", "color_mismatch"),
        ("衣服开线了，另外尺码也偏小", "quality_issue", "size_mismatch"),
        ("发错货了，还有一件是坏的", "wrong_item", "quality_issue"),
        ("毛衣颜色跟图片差好多", "color_mismatch", None),  # one problem
        ("物流五天没动了，快点吧", "delay", None),
        ("尺码小了，想换大一码", "exchange", None),  # the size is why the exchange: the same case
        ("颜色不对，我要退货", "return", None),
        ("鞋子还没到，而且颜色好像也不对", "status", None),  # only a problem has a second problem
    ],
)
def test_a_second_problem_is_another_problem_in_another_clause(text, first, second):
    assert second_request(text, first) == second


def test_problems_come_in_the_order_the_shopper_names_them():
    assert problems_in("颜色不对，而且还没到货") == ["color_mismatch", "delay"]
    assert problems_in("你好，在吗") == []


@pytest.mark.parametrize(
    "text, level",
    [
        ("鞋子开胶了", 0),
        ("怎么回事，还没到", 1),
        ("说好的三天到！", 1),
        ("说好的三天到！居然还没发货！", 2),
        ("买了双鞋质量有问题不说，按要求把鞋和发票寄回去了，结果愣是说我没寄发票！到底要我怎样", 2),
    ],
)
def test_anger_from_words_and_punctuation(text, level):
    assert anger(text) == level


def test_an_apology_only_for_the_upset_and_a_person_only_for_the_very_upset():
    assert apology("鞋子开胶了", "quality_issue") is None
    mild = apology("怎么回事，还没到", "delay")
    assert mild.startswith("真的很抱歉") and "还没收到货的问题" in mild and "转人工" not in mild
    strong = apology("说好的三天到！居然还没发货！", "delay")
    assert "转人工" in strong


@pytest.mark.parametrize("awaiting, text, expected", [
    ("reship", "补发吧", "affirm"), ("reship", "给我重新寄一个", "affirm"), ("reship", "还是退钱吧", "deny"),
    ("reship", "不要了，直接退", "deny"), ("reship", "不要退款，补发", None), ("reship", "你好", None),
    ("still_wants", "还要的", "affirm"), ("still_wants", "发货吧", "affirm"), ("still_wants", "不想要了", "deny"),
    ("evidence", "补发吧", None), (None, "补发吧", None), ("reship", "", None),
])
def test_a_two_way_question_answered_in_words(awaiting, text, expected):
    assert choice_answer(awaiting, text) == expected


@pytest.mark.parametrize("text, expected", [
    ("我上次买的电吹风坏了", "电吹风"), ("电吹风也坏了", "电吹风"), ("另一单也没到", ""),
    ("电热水壶漏水", None), ("还是没收到", None), ("上次买的电热水壶又坏了", None), ("", None),
    ("那个水壶的新单号呢", None), ("吹风坏了", "电吹风"), ("大衣开线了", "羊绒大衣"),
])
def test_another_orders_goods(text, expected):
    assert other_item(text, ["电热水壶"], ["电吹风", "电热水壶", "羊绒大衣", "T"]) == expected
