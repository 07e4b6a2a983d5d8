"""What helps on real text: the served classifier's features, retrained in-process per variant.

Each variant fits the same TF-IDF char + word n-gram -> logistic regression as
bot/nlu/classifier.py (same placeholders for numbers, same jieba dictionary, Traditional ->
Simplified first) on a different training set or setting, and is scored on the real test set
(tests/nlu/real_test.yml) and the held-out set with the served fallback rule (threshold and
ambiguity threshold of config.yml). It also chooses the fallback threshold on real data that
is *not* the test set: out-of-fold predictions for the real training messages (5 folds, the
team's data always in training), so the test set only reports.

    python scripts/eval_real_ablation.py            # prints Markdown tables for the README
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

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
) -> List[List[Tuple[str, float, float]]]:
    """Fit on ``train``; for each test list, (best intent, its probability, margin to the second)."""
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


def main() -> int:
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
