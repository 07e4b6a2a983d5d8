"""A linear intent classifier over TF-IDF character and word n-grams.

Chosen for speed by measurement (README "Speed"): on our data it is as accurate on the
held-out set as DIET (macro-F1 within a message or two of it), trains in seconds instead of
minutes, loads in a fraction of a second instead of ~20 s and classifies a message in well
under a millisecond, without TensorFlow at run time.

Features, all computed from the message the pipeline already normalised to Simplified script:
- character 1-3 grams (robust to jieba's segmentation mistakes, typos and homophones);
- word 1-2 grams over the JiebaTokenizer's tokens (the shop's vocabulary: 七天无理由, 色差 ...);
- numbers shaped like an order id, a phone, a phone tail or a tracking number are replaced by a
  placeholder word first, so "1001000000000004" and "1001000000000005" look alike to the model.

The model is a multinomial logistic regression: its probabilities are the intent confidences
the FallbackClassifier compares with its threshold. It is saved as JSON and a NumPy archive (no pickle, nothing to trust).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import text as zh

logger = logging.getLogger(__name__)

# Placeholders: what matters for the intent is that a number is an order id, not which one.
_SHAPES = [
    (zh.TRACKING_NO_RE, " 运单号码 "),
    (zh.ORDER_ID_RE, " 订单号码 "),
    (zh.MOBILE_RE, " 手机号码 "),
    (zh.PHONE_TAIL_RE, " 四位数字 "),
]


def shape(text: str) -> str:
    """The text with order ids, phones, tails and tracking numbers replaced by placeholders."""
    for pattern, placeholder in _SHAPES:
        text = pattern.sub(placeholder, text)
    return text.lower()


def _words(message: Message) -> str:
    tokens = message.get(TEXT_TOKENS) or []
    words = [shape(t.text).strip() for t in tokens]
    return " ".join(w.replace(" ", "") for w in words if w)


# intents a clause of a long message cannot stand for the whole message with
NOT_A_REQUEST = frozenset(
    {"greet", "goodbye", "thank", "affirm", "deny", "inform_order", "send_photo", "no_photo", "out_of_scope",
     "vague_followup"}
)
VAGUE = "vague_followup"
CLAUSE_BREAK = re.compile(r"[，,。.！!？?；;：:~～…\s]+|而且|并且|还有|另外|但是|可是|结果|然后")


# "订单号：2018…" / "这个订单2018…" around a pasted order number: what is left is the request, if any
_NUMBER_PHRASE = re.compile(r"(?:这个|这是|是)?(?:订单号?|单号)?(?:是|为)?\s*[:：]?\s*订单号码\s*(?:这个订单|订单号?)?")
_NUMBER_WORDS = frozenset({"订单号码", "订单号", "订单", "单号", ":", "："})
_HAN = re.compile(r"[\u4e00-\u9fff]")


def beside_the_number(message: Message) -> Optional[tuple]:
    """(shaped characters, words) of a message without its order number and the words that
    introduce it, when enough is left to be a request of its own (four Chinese characters)."""
    shaped = shape(message.get(TEXT) or "")
    if "订单号码" not in shaped:
        return None
    rest = _NUMBER_PHRASE.sub(" ", shaped)
    if len(_HAN.findall(rest)) < 4:
        return None
    words = " ".join(w for w in _words(message).split() if w not in _NUMBER_WORDS)
    return rest, words


def clauses(message: Message) -> List[tuple]:
    """(shaped characters, words) of each clause of the message, split at punctuation and 而且/还有/另外 …"""
    text = message.get(TEXT) or ""
    tokens = message.get(TEXT_TOKENS) or []
    out, start = [], 0
    for cut in [*CLAUSE_BREAK.finditer(text), None]:
        end = cut.start() if cut else len(text)
        if end - start >= 2:
            words = [shape(t.text).strip() for t in tokens if t.start >= start and t.end <= end]
            out.append((text[start:end], " ".join(w.replace(" ", "") for w in words if w)))
        start = cut.end() if cut else len(text)
    return out


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """TF-IDF char + word n-grams -> logistic regression; see the module docstring."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "char_ngrams": [1, 3],
            "word_ngrams": [1, 2],
            # the word block counts a little less than the character block: measured best on
            # both 5-fold cross-validation and the held-out set (README "Speed")
            "word_weight": 0.7,
            # weak regularisation: the training examples are hand-written and clean
            "C": 100.0,
            # None, or "balanced": intents with few examples (the real data's deny, bargain …)
            # weigh as much in training as the common ones (scripts/eval_real_ablation.py)
            "class_weight": None,
            "max_iter": 3000,
            "ranking_length": 10,
            "random_state": 0,
            # a long message the whole-message reading is unsure of (or one read as naming no
            # problem, vague_followup) is read clause by clause
            # (issue #13 point 6: several angry sentences); the clause the model is surest names
            # a request wins when it clears this confidence
            "long_message_chars": 40,
            "clause_threshold": 0.3,
            # word vectors trained here on unlabelled real JD logs (scripts/build_vectors.py), a
            # file of the repository; the message's words pooled (mean and max) are one more block
            # of this weight. None: no vector block (README "What helped, measured")
            "vectors": None,
            "vector_weight": 0.5,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[Dict[str, Any]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._model = model
        self._fitted: Optional[Dict[str, Any]] = None
        self._scorer = _Scorer(model) if model is not None else None  # built at load, not per message

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LinearIntentClassifier":
        return cls(config, model_storage, resource)

    # --- training -------------------------------------------------------------------
    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        intents = {m.get(INTENT) for m in examples}
        if len(intents) < 2:
            logger.warning("LinearIntentClassifier needs at least two intents; not trained.")
            return self._resource
        lo, hi = self._config["char_ngrams"]
        wlo, whi = self._config["word_ngrams"]
        chars = TfidfVectorizer(analyzer="char", ngram_range=(lo, hi), sublinear_tf=True, lowercase=False)
        words = TfidfVectorizer(
            analyzer="word", token_pattern=r"\S+", ngram_range=(wlo, whi), sublinear_tf=True, lowercase=False
        )
        chars.fit([shape(m.get(TEXT)) for m in examples])
        words.fit([_words(m) for m in examples])
        model = {"chars": chars, "words": words, "word_weight": float(self._config["word_weight"])}
        if self._config["vectors"]:
            model["vectors"] = {"path": str(self._config["vectors"]), "weight": float(self._config["vector_weight"])}
        clf = LogisticRegression(
            C=float(self._config["C"]),
            max_iter=int(self._config["max_iter"]),
            random_state=self._config["random_state"],
            class_weight=self._config["class_weight"],
        )
        clf.fit(self._features(model, examples), [m.get(INTENT) for m in examples])
        model["clf"] = clf
        self._fitted = model  # the sklearn objects, kept only for tests in this process
        self._model = _export(model)
        self._scorer = _Scorer(self._model)
        self._persist()
        return self._resource

    @staticmethod
    def _features(model: Dict[str, Any], messages: List[Message]) -> Any:
        import scipy.sparse as sp

        chars = model["chars"].transform([shape(m.get(TEXT) or "") for m in messages])
        words = model["words"].transform([_words(m) for m in messages]) * model.get("word_weight", 1.0)
        blocks = [chars, words]
        if model.get("vectors"):
            pooled = WordVectors.load(model["vectors"]["path"])
            dense = np.vstack([pooled.pool(_words(m)) for m in messages]) * model["vectors"]["weight"]
            blocks.append(sp.csr_matrix(dense))
        return sp.hstack(blocks, format="csr")

    # --- inference ------------------------------------------------------------------
    def process(self, messages: List[Message]) -> List[Message]:
        if self._scorer is None:
            return messages
        limit = int(self._config["ranking_length"]) or None
        for message in messages:
            if not message.get(TEXT):
                self._set(message, None, [])
                continue
            probabilities = self._scorer.probabilities(shape(message.get(TEXT)), _words(message))
            vague = self._scorer.classes[int(np.argmax(probabilities))] == VAGUE
            if vague or len(message.get(TEXT)) > int(self._config["long_message_chars"]):
                probabilities = self._clause_reading(message, probabilities, vague)
            if self._scorer.classes[int(np.argmax(probabilities))] == "inform_order":
                probabilities = self._request_beside_number(message, probabilities)
            order = np.argsort(probabilities)[::-1][:limit]
            ranking = [
                {"name": self._scorer.classes[i], "confidence": float(probabilities[i])} for i in order
            ]
            self._set(message, ranking[0], ranking)
        return messages

    def _clause_reading(self, message: Message, whole: np.ndarray, vague: bool = False) -> np.ndarray:
        """A long message the model is unsure of, read clause by clause: the surest request wins.

        Several sentences about one problem dilute each other's n-grams ("买了双鞋质量有问题不说，
        寄回去了愣是说我没寄发票！…"); one clause usually says what it is about. Clauses that only
        greet, thank or answer yes/no do not count. Costs one scoring per clause (~0.1 ms each).
        A message read as ``vague_followup`` (it names no problem) is read the same way at any
        length: "我买的是蓝牙耳机 你们发了个充电宝过来" names the item first and the problem after,
        and any clause that names a request clearly enough outranks "no problem named"."""
        threshold = float(self._config["clause_threshold"])
        if whole.max() >= threshold and not vague:
            return whole
        best, bar = whole, (threshold if vague else whole.max())
        for chars, words in clauses(message):
            scores = self._scorer.probabilities(shape(chars), words)
            top = int(np.argmax(scores))
            if self._scorer.classes[top] not in NOT_A_REQUEST and scores[top] >= max(bar, threshold):
                best, bar = scores, scores[top]
        return best

    def _request_beside_number(self, message: Message, whole: np.ndarray) -> np.ndarray:
        """A pasted order number outweighs a short request beside it ("订单号2018… 发票邮箱填写错误"
        read as only giving the number): read the message without the number, and a request
        clear enough (the clause threshold) wins. The order number is still taken as an entity.
        Chosen on out-of-fold predictions of the real training messages (README)."""
        rest = beside_the_number(message)
        if rest is None:
            return whole
        scores = self._scorer.probabilities(*rest)
        top = int(np.argmax(scores))
        if self._scorer.classes[top] in NOT_A_REQUEST or scores[top] < float(self._config["clause_threshold"]):
            return whole
        return scores

    @staticmethod
    def _set(message: Message, intent: Optional[Dict[str, Any]], ranking: List[Dict[str, Any]]) -> None:
        message.set(INTENT, intent or {"name": None, "confidence": 0.0}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    # --- persistence: JSON and a NumPy archive, no pickle ------------------------------
    def _persist(self) -> None:
        assert self._model is not None
        arrays = {k: v for k, v in self._model.items() if isinstance(v, np.ndarray)}
        meta = {k: v for k, v in self._model.items() if not isinstance(v, np.ndarray)}
        with self._storage.write_to(self._resource) as directory:
            (directory / "linear_intent.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            np.savez(directory / "linear_intent.npz", **arrays)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LinearIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                meta = json.loads((directory / "linear_intent.json").read_text(encoding="utf-8"))
                with np.load(directory / "linear_intent.npz", allow_pickle=False) as arrays:
                    model = {**meta, **{k: arrays[k] for k in arrays.files}}
        except (ValueError, OSError) as error:
            logger.warning("LinearIntentClassifier: no usable model (%s); intents will be empty.", error)
            model = None
        return cls(config, model_storage, resource, model)


def _export(fitted: Dict[str, Any]) -> Dict[str, Any]:
    """The fitted vectorizers and regression as plain data: what the scorer needs, nothing else."""
    clf = fitted["clf"]
    model: Dict[str, Any] = {"classes": [str(c) for c in clf.classes_], "blocks": []}
    for name, weight in (("chars", 1.0), ("words", float(fitted.get("word_weight", 1.0)))):
        vectorizer = fitted[name]
        model["blocks"].append(
            {
                "analyzer": vectorizer.analyzer,
                "ngram_range": list(vectorizer.ngram_range),
                "token_pattern": vectorizer.token_pattern,
                "vocabulary": {gram: int(i) for gram, i in vectorizer.vocabulary_.items()},
                "weight": weight,
            }
        )
        model[f"idf_{name}"] = np.asarray(vectorizer.idf_, dtype=np.float64)
    if fitted.get("vectors"):
        model["vectors"] = dict(fitted["vectors"])
    model["coef"] = np.asarray(clf.coef_, dtype=np.float64)
    model["intercept"] = np.asarray(clf.intercept_, dtype=np.float64)
    return model


class _Scorer:
    """The trained model's arithmetic for one message at a time, without sklearn's overhead.

    sklearn's ``transform`` + ``predict_proba`` cost ~5 ms per message here (input checks,
    an idf diagonal rebuilt per call, and a copy of the 25 x 50,000 weight matrix because it
    is multiplied transposed). The same sums over a message's few dozen n-grams take
    microseconds: TF-IDF with sublinear tf and L2 norm per block, a dot product with the
    weights stored contiguously, softmax. tests/unit/test_classifier.py checks it against
    sklearn's own ``predict_proba``.
    """

    def __init__(self, model: Dict[str, Any]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.classes = list(model["classes"])
        self._blocks = []
        offset = 0
        for block, name in zip(model["blocks"], ("chars", "words"), strict=True):
            # an unfitted vectorizer with the same settings gives the same analyzer
            analyze = TfidfVectorizer(
                analyzer=block["analyzer"],
                ngram_range=tuple(block["ngram_range"]),
                token_pattern=block["token_pattern"],
                lowercase=False,
            ).build_analyzer()
            vocabulary = block["vocabulary"]
            self._blocks.append((analyze, vocabulary, np.asarray(model[f"idf_{name}"]), offset, block["weight"]))
            offset += len(vocabulary)
        vectors = model.get("vectors")
        self._vectors = (WordVectors.load(vectors["path"]), float(vectors["weight"]), offset) if vectors else None
        self._weights = np.ascontiguousarray(np.asarray(model["coef"], dtype=np.float64).T)
        self._bias = np.asarray(model["intercept"], dtype=np.float64)
        self._binary = self._weights.shape[1] == 1

    def probabilities(self, chars: str, words: str) -> np.ndarray:
        scores = self._bias.copy()
        for (analyze, vocabulary, idf, offset, weight), text in zip(self._blocks, (chars, words), strict=False):
            counts: Dict[int, int] = {}
            for gram in analyze(text):
                index = vocabulary.get(gram)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            if not counts:
                continue
            index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * idf[index]
            values *= weight / np.sqrt(np.dot(values, values))
            scores += values @ self._weights[index + offset]
        if self._vectors is not None:
            pooled, weight, offset = self._vectors
            scores += (pooled.pool(words) * weight) @ self._weights[offset:]
        if self._binary:  # two intents: sklearn's one-column logistic model
            positive = 1.0 / (1.0 + np.exp(-scores[0]))
            return np.array([1.0 - positive, positive])
        scores -= scores.max()
        exp = np.exp(scores)
        return exp / exp.sum()


class WordVectors:
    """Word vectors pooled over a message's words: one dense row of length 1 (issue #13).

    The vectors are FastText's, trained here by ``scripts/build_vectors.py`` on unlabelled real JD
    customer-service turns (never on a session that holds a real test message or an opening) and
    kept in the repository: a word the logs never had still gets a vector from its characters. The
    row is the mean of the words' vectors and their element-wise maximum, each normalised, so
    "退款" and "退钱" land near each other although they share few n-grams. Chosen out of fold on
    the real training messages (README). Loaded once per process and file.
    """

    _loaded: Dict[str, "WordVectors"] = {}
    ROOT = Path(__file__).resolve().parents[2]

    def __init__(self, words: List[str], vectors: np.ndarray, ngrams: np.ndarray, ngram_range: tuple) -> None:
        self._index = {w: i for i, w in enumerate(words)}
        self._vectors, self._ngrams = vectors, ngrams
        self._min_n, self._max_n = int(ngram_range[0]), int(ngram_range[1])
        self._size = int(vectors.shape[1])
        self._unknown: Dict[str, np.ndarray] = {}  # vectors built from n-grams, kept
        from gensim.models.fasttext import ft_ngram_hashes  # FastText's hashing of n-grams into buckets

        self._hashes = ft_ngram_hashes

    @classmethod
    def load(cls, path: str) -> "WordVectors":
        """The archive ``scripts/build_vectors.py --served`` writes: plain arrays, no pickle."""
        resolved = Path(path) if Path(path).is_absolute() else cls.ROOT / path
        key = str(resolved)
        if key not in cls._loaded:
            if not resolved.is_file():
                raise FileNotFoundError(f"word vectors {resolved} are missing (scripts/build_vectors.py writes them)")
            with np.load(resolved, allow_pickle=False) as arrays:
                cls._loaded[key] = cls([str(w) for w in arrays["words"]], arrays["vectors"].astype(np.float64),
                                       arrays["ngrams"].astype(np.float64), tuple(arrays["ngram_range"]))
        return cls._loaded[key]

    def vector(self, word: str) -> np.ndarray:
        """FastText's vector of a word: its own, or the mean of its character n-grams' buckets."""
        index = self._index.get(word)
        if index is not None:
            return self._vectors[index]
        known = self._unknown.get(word)
        if known is None:
            buckets = self._hashes(word, self._min_n, self._max_n, len(self._ngrams))
            known = self._ngrams[buckets].mean(axis=0) if buckets else np.zeros(self._size)
            if len(self._unknown) < 50_000:  # words shoppers repeat; bounded, so a flood cannot grow it
                self._unknown[word] = known
        return known

    def pool(self, words: str) -> np.ndarray:
        """The row of ``words`` (the classifier's shaped words, space-separated; punctuation left out)."""
        tokens = [w for w in words.split() if _WORDLIKE.search(w)]
        if not tokens:
            return np.zeros(2 * self._size)
        return pool_rows(np.vstack([self.vector(w) for w in tokens]))


def pool_rows(matrix: np.ndarray, pooling: str = "mean+max") -> np.ndarray:
    """Word vectors (one row each) pooled into one row of length 1: the mean, and with ``mean+max``
    the element-wise maximum appended, each part normalised."""
    parts = [matrix.mean(axis=0)] + ([matrix.max(axis=0)] if pooling == "mean+max" else [])
    return np.concatenate([p / (np.linalg.norm(p) or 1.0) for p in parts]) / np.sqrt(len(parts))


_WORDLIKE = re.compile(r"\w")
