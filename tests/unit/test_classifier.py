"""The linear intent classifier: trained on the real data through the real Rasa components.

What matters: its fast scorer gives exactly sklearn's probabilities, a saved model loads back
and predicts the same, numbers are seen by their shape, and odd input never breaks it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from ruamel.yaml import YAML

from bot.nlu.classifier import LinearIntentClassifier, WordVectors, _Scorer, shape
from bot.nlu.components import ScriptNormalizer

ROOT = Path(__file__).resolve().parents[2]


# the classifier as config.yml serves it (with the word-vector block when it is configured)
SERVED = {
    **LinearIntentClassifier.get_default_config(),
    **next(
        {k: v for k, v in c.items() if k != "name"}
        for c in YAML(typ="safe").load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
        if c["name"].endswith("LinearIntentClassifier")
    ),
}


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    context = ExecutionContext(GraphSchema({}), "test")
    normalizer = ScriptNormalizer({"max_chars": 1000})
    tokenizer = JiebaTokenizer.create(
        {**JiebaTokenizer.get_default_config(), "dictionary_path": str(ROOT / "bot/resources/jieba")},
        storage,
        Resource("tokenizer"),
        context,
    )
    data = load_data(str(ROOT / "data" / "nlu"))
    normalizer.process_training_data(data)
    tokenizer.process_training_data(data)
    resource = Resource("intents")
    classifier = LinearIntentClassifier.create(SERVED, storage, resource, context)
    classifier.train(data)
    return storage, context, resource, normalizer, tokenizer, classifier


def parse(parts, text: str) -> Message:
    _, _, _, normalizer, tokenizer, classifier = parts
    message = Message({TEXT: text})
    normalizer.process([message])
    tokenizer.process([message])
    classifier.process([message])
    return message


HELD_OUT = [m.get(TEXT) for m in load_data(str(ROOT / "tests/nlu/heldout.yml")).intent_examples][::7]


def test_fast_scorer_gives_sklearns_probabilities(parts):
    *_, normalizer, tokenizer, classifier = parts
    fitted = classifier._fitted
    scorer = _Scorer(classifier._model)
    messages = [Message({TEXT: t}) for t in HELD_OUT]
    normalizer.process(messages)
    tokenizer.process(messages)
    expected = fitted["clf"].predict_proba(classifier._features(fitted, messages))
    from bot.nlu.classifier import _words

    got = np.array([scorer.probabilities(shape(m.get(TEXT)), _words(m)) for m in messages])
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)
    assert list(fitted["clf"].classes_) == scorer.classes


def test_saved_model_loads_back_and_predicts_the_same(parts):
    storage, context, resource, *_ = parts
    saved = sorted(p.name for p in (storage._storage_path / resource.name).iterdir())
    assert saved == ["linear_intent.json", "linear_intent.npz"], "plain data, no pickle"
    loaded = LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), storage, resource, context)
    for text in HELD_OUT[:20]:
        first = parse(parts, text)
        again = Message({TEXT: text})
        parts[3].process([again])
        parts[4].process([again])
        loaded.process([again])
        assert again.get(INTENT) == first.get(INTENT)
        assert again.get(INTENT_RANKING_KEY) == first.get(INTENT_RANKING_KEY)


@pytest.mark.parametrize(
    "text, intent",
    [
        ("羊毛衫颜色跟图片差太多了", "color_mismatch"),
        ("我要退货", "request_return"),
        ("電吹風壞了能保修嗎", "warranty_repair"),
        ("快递怎么还没到", "shipping_delay"),
        ("谢谢", "thank"),
    ],
)
def test_everyday_messages_get_their_intent(parts, text, intent):
    message = parse(parts, text)
    assert message.get(INTENT)["name"] == intent
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking[0]["name"] == intent and len(ranking) <= 10
    assert all(a["confidence"] >= b["confidence"] for a, b in zip(ranking, ranking[1:], strict=False))
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 0.2


def test_numbers_are_seen_by_their_shape():
    assert shape("订单1001000000000004") == shape("订单1001000000000005")
    assert shape("手机13812345678") != shape("订单1001000000000004")
    assert "运单号码" in shape("单号SF1234567890123")
    assert "四位数字" in shape("尾号0004")


@pytest.mark.parametrize("text", ["", "   ", "😀" * 50, "<script>alert(1)</script>", "a" * 5000, "\x00\x01"])
def test_odd_input_never_breaks_it(parts, text):
    message = parse(parts, text)
    intent = message.get(INTENT)
    if text.strip() and text.isprintable():
        assert intent["name"] and 0.0 <= intent["confidence"] <= 1.0
    else:  # nothing left after normalising: no intent, and the fallback takes over
        assert intent["name"] is None or intent["confidence"] <= 1.0


# ---- long messages read clause by clause (issue #13 point 6) ----------------------------------

LONG_ANGRY = [  # written for these tests, several sentences each, as upset shoppers write
    ("买了双运动鞋质量有问题不说，我按你们说的把鞋和发票一起寄回去了，结果愣是说我没寄发票！来回折腾一个星期了，到底怎么回事？？",
     {"quality_issue", "complain", "invoice", "request_return", "refund_status"}),
    ("你们这个快递我真是服了，下单五天了物流一动不动，打电话也没人接，问客服就让我等等等，我明天就要出差了还等什么",
     {"shipping_delay", "complain"}),
]


def test_clauses_split_at_punctuation_and_connectives(parts):
    from bot.nlu.classifier import clauses

    message = parse(parts, "鞋子还没到，而且颜色好像也不对！另外发票呢")
    assert [c for c, _ in clauses(message)] == ["鞋子还没到", "颜色好像也不对", "发票呢"]
    assert all(words for _, words in clauses(message))  # each clause keeps its own jieba words


@pytest.mark.parametrize("text, acceptable", LONG_ANGRY)
def test_a_long_upset_message_is_read_for_what_it_is_about(parts, text, acceptable):
    message = parse(parts, text)
    assert len(text) > 40
    assert message.get(INTENT)["name"] in acceptable and message.get(INTENT)["confidence"] >= 0.3


def test_a_short_message_is_never_read_by_clauses(parts):
    *_, classifier = parts
    message = parse(parts, "你好，谢谢")
    whole = classifier._scorer.probabilities(shape(message.get(TEXT)), " ".join(t.text for t in message.get("text_tokens")))
    assert message.get(INTENT)["confidence"] == pytest.approx(float(whole.max()))


@pytest.mark.parametrize(
    "text, intent",
    [
        ("订单号：1001000000000004 发票开错了抬头", "invoice"),
        ("1001000000000004 这个订单的耳机坏了没法用", "quality_issue"),
    ],
)
def test_a_request_beside_a_pasted_order_number_wins(parts, text, intent):
    from bot.nlu.classifier import beside_the_number

    message = parse(parts, text)
    rest = beside_the_number(message)
    assert rest is not None and "订单号码" not in rest[0] and "订单号码" not in rest[1]
    assert message.get(INTENT)["name"] == intent


@pytest.mark.parametrize("text", ["1001000000000004", "订单号是1001000000000004", "单号 1001000000000004 谢谢"])
def test_a_bare_order_number_is_still_just_the_number(parts, text):
    from bot.nlu.classifier import beside_the_number

    message = parse(parts, text)
    assert beside_the_number(message) is None
    assert message.get(INTENT)["name"] == "inform_order"


def test_the_served_classifier_reads_word_vectors_as_one_more_block(parts):
    *_, classifier = parts
    assert SERVED.get("vectors"), "config.yml serves the classifier with word vectors (README)"
    model = classifier._model
    sparse = sum(len(block["vocabulary"]) for block in model["blocks"])
    vectors = WordVectors.load(model["vectors"]["path"])
    assert model["coef"].shape[1] == sparse + len(vectors.pool("退款"))  # the dense block is in the model


def test_word_vectors_pool_known_and_unknown_words_into_one_unit_row():
    vectors = WordVectors.load(SERVED["vectors"])
    row = vectors.pool("退款 怎么 还 没 到")
    assert np.isclose(np.linalg.norm(row), 1.0)
    # a word the logs never had still gets a vector from its characters (FastText n-grams)
    assert np.linalg.norm(vectors.pool("猫粮罐头")) > 0.9
    assert not vectors.pool("？？ ！").any() and not vectors.pool("").any()
    # closer in meaning is closer in the vectors: the point of the block
    near, far = vectors.pool("退钱"), vectors.pool("发票")
    assert row @ near > row @ far


def test_the_vectors_never_saw_an_evaluation_session():
    import json

    meta = json.loads((ROOT / (SERVED["vectors"] + ".json")).read_text(encoding="utf-8"))
    assert meta["lines_dropped_for_evaluation_sets"] > 0  # sessions holding a real test message or an opening
    assert meta["source"]["commit"] == "e4938fdc6251514a1cf53f37aff2cff9a1f4e14e"
