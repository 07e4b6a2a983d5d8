"""What helps on real text: the served classifier's features, retrained in-process per variant.

Each variant fits the same TF-IDF char + word n-gram -> logistic regression as
bot/nlu/classifier.py (same placeholders for numbers, same jieba dictionary, Traditional ->
Simplified first) on a different training set or setting, and is scored on the real test set
(tests/nlu/real_test.yml) and the held-out set with the served fallback rule (threshold and
ambiguity threshold of config.yml). It also chooses the fallback threshold on real data that
is *not* the test set: out-of-fold predictions for the real training messages (5 folds, the
team's data always in training), so the test set only reports.

    python scripts/eval_real_ablation.py            # prints Markdown tables for the README
    python scripts/eval_real_ablation.py --only served --vectors var/vectors/fasttext.kv
                                                    # the served variant and the word-vector ones

Word vectors (issue #13: trained here on the unlabelled JD logs by scripts/build_vectors.py) are
measured as a dense block appended to the served features: the message's words (the same
tokens) pooled into one vector. Out of fold, by default, each fold's vectors are trained again
without the context lines that hold that fold's held-out messages, as the file was trained
without the lines holding a test message or an opening: a held-out message is then as unseen by
the vectors as a new shopper's message would be.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

Example = Tuple[str, str]  # text, intent


def load(path: Path) -> List[Example]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]


def team_data() -> List[Example]:
    return [e for p in sorted((ROOT / "data" / "nlu").glob("*.yml")) if p.name != "real.yml" for e in load(p)]


class Featurizer:
    """The served classifier's text preparation: Simplified script, number placeholders, jieba words."""

    def __init__(self) -> None:
        import jieba

        from bot.nlu.classifier import shape
        from bot.text import to_simplified

        self._jieba = jieba.Tokenizer()
        self._jieba.load_userdict(str(ROOT / "bot" / "resources" / "jieba" / "userdict.txt"))
        self._shape, self._simplify = shape, to_simplified
        self._cache: Dict[str, Tuple[str, str]] = {}

    def __call__(self, text: str) -> Tuple[str, str]:
        if text not in self._cache:
            simple = self._simplify(text[:1000])
            words = " ".join(
                self._shape(w).strip().replace(" ", "") for w in self._jieba.lcut(simple) if w.strip()
            )
            self._cache[text] = (self._shape(simple), words)
        return self._cache[text]


class Vectors:
    """Word vectors pooled over a message's words (the Featurizer's tokens, punctuation left out):
    one dense, L2-normalised row per message. ``mean`` averages the words' vectors; ``mean+max``
    appends the element-wise maximum (each half normalised, the row still of length 1)."""

    def __init__(self, keyed: Any, feats: Featurizer) -> None:
        self.keyed, self._feats = keyed, feats
        self._cache: Dict[Tuple[str, str], Any] = {}

    @classmethod
    def load(cls, path: Path, feats: Featurizer) -> "Vectors":
        if not path.is_file():
            raise SystemExit(
                f"no word vectors at {path}: build them first with "
                f"`python scripts/build_vectors.py --out {path}` (or pass --vectors / ABLATION_VECTORS)"
            )
        from gensim.models import KeyedVectors

        return cls(KeyedVectors.load(str(path)), feats)

    def words(self, text: str) -> List[str]:
        """The message's words that have a vector (FastText: every word, through its n-grams)."""
        words = [w for w in self._feats(text)[1].split() if re.search(r"\w", w)]
        if hasattr(self.keyed, "vectors_ngrams"):  # FastTextKeyedVectors
            return words
        return [w for w in words if w in self.keyed.key_to_index]

    def pool(self, text: str, pooling: str = "mean") -> Any:
        import numpy as np

        if (text, pooling) not in self._cache:
            words = self.words(text)
            if not words:
                row = np.zeros(self.keyed.vector_size * (2 if pooling == "mean+max" else 1))
            else:
                from bot.nlu.classifier import pool_rows  # the served pooling

                row = pool_rows(np.vstack([self.keyed[w] for w in words]).astype(np.float64), pooling)
            self._cache[(text, pooling)] = row
        return self._cache[(text, pooling)]

    def block(self, texts: Sequence[str], pooling: str, weight: float) -> Any:
        import numpy as np
        import scipy.sparse as sp

        return sp.csr_matrix(np.vstack([self.pool(t, pooling) for t in texts]) * weight)


class VectorSource:
    """The vectors file of scripts/build_vectors.py, and the same settings trained again per fold
    without the context lines that hold the fold's held-out messages (cached per fold)."""

    def __init__(self, path: Path, feats: Featurizer, per_fold: bool = True) -> None:
        self.path, self.per_fold, self._feats = path, per_fold, feats
        self.full = Vectors.load(path, feats)
        meta = Path(str(path) + ".json")
        self.meta: Dict[str, Any] = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}
        self._corpus: Any = None
        self._folds: Dict[FrozenSet[str], Vectors] = {}
        self.build_seconds: List[float] = []

    def without(self, held: Sequence[str]) -> Vectors:
        """Vectors that never saw the held-out messages' sessions (or the file, when not per fold)."""
        if not self.per_fold:
            return self.full
        key = frozenset(held)
        if key not in self._folds:
            import build_vectors

            if not self.meta:
                raise SystemExit(f"{self.path}.json (the settings the vectors were built with) is missing")
            if self._corpus is None:  # the same snapshot and commit as the file
                origin = self.meta.get("source", {})
                self._corpus = build_vectors.Corpus.load(
                    Path(origin.get("snapshot", build_vectors.SNAPSHOT)),
                    origin.get("commit", build_vectors.COMMIT),
                )
            settings = build_vectors.Settings(**self.meta["settings"])
            start = time.perf_counter()
            unseen = build_vectors.sources_of(held)
            keyed, _ = build_vectors.build(settings, self._corpus, self._feats, unseen)
            self.build_seconds.append(time.perf_counter() - start)
            self._folds[key] = Vectors(keyed, self._feats)
        return self._folds[key]


def fit_predict(
    train: Sequence[Example],
    tests: Sequence[Sequence[str]],
    feats: Featurizer,
    *,
    C: float = 100.0,
    word_weight: float = 0.7,
    chars: Tuple[int, int] = (1, 3),
    balanced: bool = False,
    pinyin: float = 0.0,
    ensemble: float = 0.0,
    vectors: Optional[Vectors] = None,
    vector_weight: float = 1.0,
    pooling: str = "mean",
    vectors_only: bool = False,
) -> List[List[Tuple[str, float, float]]]:
    """Fit on ``train``; for each test list, (best intent, its probability, margin to the second).

    With ``vectors``, the pooled word vectors of each message are one more block (times
    ``vector_weight``); with ``vectors_only`` they are the only one (for reference)."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    prepared = [feats(t) for t, _ in train]
    cv = TfidfVectorizer(analyzer="char", ngram_range=chars, sublinear_tf=True, lowercase=False)
    wv = TfidfVectorizer(
        analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2), sublinear_tf=True, lowercase=False
    )
    blocks = [cv.fit_transform([c for c, _ in prepared]), wv.fit_transform([w for _, w in prepared]) * word_weight]
    if vectors is not None:  # the word-vector block: after the sparse ones, or alone
        dense = vectors.block([t for t, _ in train], pooling, vector_weight)
        blocks = [dense] if vectors_only else [*blocks, dense]
    pv = None
    if pinyin:  # homophones and typos that sound alike: 在吗/再吗, 退款/推款
        pv = TfidfVectorizer(
            analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2), sublinear_tf=True, lowercase=False
        )
        blocks.append(pv.fit_transform([pinyin_of(t) for t, _ in train]) * pinyin)
    X = sp.hstack(blocks)
    clf = LogisticRegression(
        C=C, max_iter=3000, random_state=0, class_weight="balanced" if balanced else None
    )
    clf.fit(X.tocsr(), [i for _, i in train])
    nb = None
    if ensemble:  # a second model of another kind: complement naive Bayes on the same features
        from sklearn.naive_bayes import ComplementNB

        nb = ComplementNB(alpha=0.3).fit(X.tocsr(), [i for _, i in train])
    results = []
    for texts in tests:
        p = [feats(t) for t in texts]
        tb = [cv.transform([c for c, _ in p]), wv.transform([w for _, w in p]) * word_weight]
        if vectors is not None:
            dense = vectors.block(texts, pooling, vector_weight)
            tb = [dense] if vectors_only else [*tb, dense]
        if pv is not None:
            tb.append(pv.transform([pinyin_of(t) for t in texts]) * pinyin)
        Xt = sp.hstack(tb).tocsr()
        proba = clf.predict_proba(Xt)
        if nb is not None:
            proba = (1 - ensemble) * proba + ensemble * nb.predict_proba(Xt)
        order = np.argsort(-proba, axis=1)
        results.append(
            [
                (clf.classes_[o[0]], float(r[o[0]]), float(r[o[0]] - r[o[1]]))
                for r, o in zip(proba, order, strict=False)
            ]
        )
    return results


_PINYIN: Dict[str, str] = {}


def pinyin_of(text: str) -> str:
    """Toneless pinyin syllables of the Simplified text (other characters kept as they are)."""
    if text not in _PINYIN:
        from pypinyin import lazy_pinyin

        from bot.text import to_simplified

        _PINYIN[text] = " ".join(s for s in lazy_pinyin(to_simplified(text[:1000])) if s.strip())
    return _PINYIN[text]


def served(pred: List[Tuple[str, float, float]], threshold: float, ambiguity: float) -> List[str]:
    return [i if c >= threshold and m >= ambiguity else "nlu_fallback" for i, c, m in pred]


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, labels=sorted(set(gold)), average="macro", zero_division=0))


def typo_copies(examples: Sequence[Example], seed: int = 0) -> List[Example]:
    """One copy of each example with a character dropped or doubled (the typos shoppers make)."""
    rng = random.Random(seed)
    out = []
    for text, intent in examples:
        if len(text) < 4:
            continue
        i = rng.randrange(len(text))
        out.append(
            ((text[:i] + text[i + 1 :]) if rng.random() < 0.5 else (text[:i] + text[i] + text[i:]), intent)
        )
    return out


def oof_predictions(
    team: List[Example],
    real: List[Example],
    feats: Featurizer,
    variant: Callable[[List[Example]], Tuple[List[Example], dict]] = lambda tr: (tr, {}),
    folds: int = 5,
) -> List[Tuple[str, float, float]]:
    """A variant's predictions for each real training message, from a model that did not see it
    (``folds`` folds, the team's data always in training)."""
    rng = random.Random(0)
    order = list(range(len(real)))
    rng.shuffle(order)
    preds: List = [None] * len(real)
    for k in range(folds):
        held = set(order[k::folds])
        train, options = variant([e for i, e in enumerate(real) if i not in held])
        idx = sorted(held)
        for i, p in zip(
            idx, fit_predict(team + train, [[real[i][0] for i in idx]], feats, **options)[0], strict=False
        ):
            preds[i] = p
    return preds


def out_of_fold(
    team: List[Example],
    real: List[Example],
    feats: Featurizer,
    variant: Callable[[List[Example]], Tuple[List[Example], dict]],
    threshold: float,
    ambiguity: float,
    folds: int = 5,
) -> float:
    """Served macro-F1 of a variant on real training messages it did not see (5 folds, team data always in)."""
    preds = oof_predictions(team, real, feats, variant, folds)
    return macro_f1([i for _, i in real], served(preds, threshold, ambiguity))


def choose_threshold(
    team: List[Example], real: List[Example], feats: Featurizer, ambiguity: float, folds: int = 5
) -> Tuple[float, List[Tuple[float, float, float, float]]]:
    """Out-of-fold real predictions; the highest threshold whose macro-F1 is within 0.005 of the best.

    Macro-F1 alone always prefers answering more; within noise of the best, a higher threshold
    answers less but more accurately and sends the rest to a rephrase prompt or a person."""
    preds = oof_predictions(team, real, feats, folds=folds)
    gold = [i for _, i in real]
    rows = []
    for t in [x / 100 for x in range(10, 71, 5)]:
        s = served(preds, t, ambiguity)
        answered = [(g, p) for g, p in zip(gold, s, strict=False) if p != "nlu_fallback"]
        acc = sum(g == p for g, p in answered) / max(1, len(answered))
        rows.append((t, macro_f1(gold, s), len(answered) / len(gold), acc))
    top = max(r[1] for r in rows)
    best = max(r[0] for r in rows if r[1] >= top - 0.005)
    return best, rows


def describe_vectors(source: VectorSource, texts: Sequence[str]) -> None:
    """What the vectors are, and what their block costs a message once its words are known."""
    keyed, meta = source.full.keyed, source.meta
    print(
        f"word vectors: {source.path} ({type(keyed).__name__}, {keyed.vector_size} dimensions, "
        f"{len(keyed.index_to_key)} words); built with {meta.get('settings', '?')}"
    )
    if meta:
        print(
            f"  corpus: {meta['lines_kept']} of {meta['lines']} context lines kept, {meta['tokens']} tokens; "
            f"trained in {meta['train_seconds']} s ({meta['total_seconds']} s with reading and "
            f"tokenising); {meta['file_bytes'] / 1e6:.1f} MB on disk"
        )
    start = time.perf_counter()
    Vectors.load(source.path, source._feats)
    loaded = time.perf_counter() - start
    for t in texts:  # tokenise first: the served pipeline has the words already
        source._feats(t)
    fresh = Vectors(keyed, source._feats)
    start = time.perf_counter()
    for t in texts:
        fresh.pool(t, "mean+max")
    per = (time.perf_counter() - start) / max(1, len(texts))
    print(f"  load {loaded:.2f} s; pooling a message's words (mean+max, uncached): {per * 1e6:.0f} µs each\n")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="run only the variants whose name contains TEXT (repeatable; e.g. 'served', 'vectors'); "
        "the threshold table is printed only when every variant runs",
    )
    parser.add_argument(
        "--vectors",
        type=Path,
        default=os.environ.get("ABLATION_VECTORS") or None,
        help="word vectors from scripts/build_vectors.py (default: $ABLATION_VECTORS); adds the word-vector variants",
    )
    parser.add_argument(
        "--vector-weights", default="0.5,1,2", help="weights of the word-vector block (comma-separated)"
    )
    parser.add_argument(
        "--vector-folds",
        choices=("rebuild", "file"),
        default="rebuild",
        help="out of fold: train the vectors again per fold without the held-out messages' lines "
        "(default), or use the file as it is (faster; the held-out messages' sessions were in its corpus)",
    )
    args = parser.parse_args(argv)
    import logging

    logging.disable(logging.WARNING)
    from ruamel.yaml import YAML

    config = YAML(typ="safe").load((ROOT / "config.yml").read_text())
    fb = next(c for c in config["pipeline"] if c["name"] == "FallbackClassifier")
    threshold, ambiguity = float(fb["threshold"]), float(fb.get("ambiguity_threshold", 0.1))
    feats = Featurizer()
    team, real = team_data(), load(ROOT / "data" / "nlu" / "real.yml")
    real_test, heldout = (
        load(ROOT / "tests" / "nlu" / "real_test.yml"),
        load(ROOT / "tests" / "nlu" / "heldout.yml"),
    )
    tests = [[t for t, _ in real_test], [t for t, _ in heldout]]
    gold_r, gold_h = [i for _, i in real_test], [i for _, i in heldout]
    contract = {i for _, i in heldout}

    variants: List[Tuple[str, Callable[[], List[List]]]] = [
        ("team-written data only (before #13)", lambda: fit_predict(team, tests, feats)),
        ("+ real training messages (served)", lambda: fit_predict(team + real, tests, feats)),
        ("+ real, class weights balanced", lambda: fit_predict(team + real, tests, feats, balanced=True)),
        ("+ real, C = 10 (stronger regularisation)", lambda: fit_predict(team + real, tests, feats, C=10.0)),
        ("+ real, char 1-4 grams", lambda: fit_predict(team + real, tests, feats, chars=(1, 4))),
        ("+ real, word block weight 1.0", lambda: fit_predict(team + real, tests, feats, word_weight=1.0)),
        (
            "+ real + typo copies (drop/double a char)",
            lambda: fit_predict(team + real + typo_copies(real), tests, feats),
        ),
        ("+ real, pinyin syllables (weight 0.5)", lambda: fit_predict(team + real, tests, feats, pinyin=0.5)),
        (
            "+ real, ensemble with complement naive Bayes (0.3)",
            lambda: fit_predict(team + real, tests, feats, ensemble=0.3),
        ),
        (
            "+ real, the three combined (balanced, word 1.0, typo copies)",
            lambda: fit_predict(
                team + real + typo_copies(real), tests, feats, balanced=True, word_weight=1.0
            ),
        ),
    ]
    # the same variants judged out of fold on the real training messages (not the test set)
    oof: Dict[str, Callable[[List[Example]], Tuple[List[Example], dict]]] = {
        "+ real training messages (served)": lambda tr: (tr, {}),
        "+ real, class weights balanced": lambda tr: (tr, {"balanced": True}),
        "+ real, word block weight 1.0": lambda tr: (tr, {"word_weight": 1.0}),
        "+ real + typo copies (drop/double a char)": lambda tr: (tr + typo_copies(tr), {}),
        "+ real, pinyin syllables (weight 0.5)": lambda tr: (tr, {"pinyin": 0.5}),
        "+ real, ensemble with complement naive Bayes (0.3)": lambda tr: (tr, {"ensemble": 0.3}),
        "+ real, the three combined (balanced, word 1.0, typo copies)": lambda tr: (
            tr + typo_copies(tr),
            {"balanced": True, "word_weight": 1.0},
        ),
    }
    source: Optional[VectorSource] = None
    if args.vectors is not None:
        source = VectorSource(args.vectors, feats, per_fold=args.vector_folds == "rebuild")
        real_set = set(real)

        def unseen(train: List[Example]) -> List[str]:
            """The real training messages a fold holds out (what its vectors must not have seen)."""
            kept = set(train)
            return [t for t, i in real_set if (t, i) not in kept]

        poolings, weights = ("mean", "mean+max"), [float(w) for w in args.vector_weights.split(",")]
        for pooling in poolings:
            for weight in weights:
                name = f"+ real, word vectors ({pooling} pooled, weight {weight:g})"
                options = {"vector_weight": weight, "pooling": pooling}
                variants.append(
                    (name, lambda o=options: fit_predict(team + real, tests, feats, vectors=source.full, **o))
                )
                oof[name] = lambda tr, o=options: (tr, {"vectors": source.without(unseen(tr)), **o})
            name = f"team + real, word vectors only ({pooling} pooled, for reference)"
            options = {"pooling": pooling, "vectors_only": True}
            variants.append(
                (name, lambda o=options: fit_predict(team + real, tests, feats, vectors=source.full, **o))
            )
            oof[name] = lambda tr, o=options: (tr, {"vectors": source.without(unseen(tr)), **o})
    if args.only:
        if any("vector" in o for o in args.only) and source is None:
            raise SystemExit("the word-vector variants need --vectors PATH (or ABLATION_VECTORS)")
        variants = [(n, run) for n, run in variants if any(o in n for o in args.only)]
        if not variants:
            raise SystemExit(f"no variant matches {args.only}")

    if source is not None:
        describe_vectors(source, tests[0])
    print(f"fallback rule: threshold {threshold}, ambiguity {ambiguity}\n")
    print(
        "| variant | real test macro-F1 | real, contract intents | real answered | held-out macro-F1 "
        "| out-of-fold real macro-F1 | fit |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, run in variants:
        start = time.perf_counter()
        (pr, ph) = run()
        took = time.perf_counter() - start
        sr, sh = served(pr, threshold, ambiguity), served(ph, threshold, ambiguity)
        keep = [k for k, g in enumerate(gold_r) if g in contract]
        mr_c = macro_f1([gold_r[k] for k in keep], [sr[k] for k in keep])
        answered = sum(p != "nlu_fallback" for p in sr) / len(sr)
        of = f"{out_of_fold(team, real, feats, oof[name], threshold, ambiguity):.3f}" if name in oof else "-"
        print(
            f"| {name} | {macro_f1(gold_r, sr):.3f} | {mr_c:.3f} | {answered:.1%} | {macro_f1(gold_h, sh):.3f} "
            f"| {of} | {took:.0f} s |"
        )

    if source is not None and source.build_seconds:
        took = source.build_seconds
        print(f"\nvectors trained again per fold: {len(took)} times, {sum(took) / len(took):.0f} s each")
    if args.only:
        return 0
    best, rows = choose_threshold(team, real, feats, ambiguity)
    print("\nFallback threshold on real data (out-of-fold predictions of the real training messages):\n")
    print("| threshold | macro-F1 | answered | accuracy of answered |")
    print("| --- | --- | --- | --- |")
    for t, f, cov, acc in rows:
        mark = " **(chosen)**" if t == best else ""
        print(f"| {t:.2f}{mark} | {f:.3f} | {cov:.1%} | {acc:.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
