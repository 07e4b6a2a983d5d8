"""Measure the NLU model on the real test set and the held-out set (optionally 5-fold CV).

Two sets: ``tests/nlu/real_test.yml`` (real JD customer messages, never trained on; see
data/real/README.md) and ``tests/nlu/heldout.yml`` (written by the team, never trained on).
For each it prints intent accuracy, macro-F1, per-intent F1 and the worst confusions and
writes a confusion-matrix picture to results/. For the real set it also draws the
coverage/accuracy curve of the fallback threshold (results/real_coverage.png) and prints
the share answered and the accuracy of those answered at the threshold in config.yml.
``--floor X`` / ``--real-floor Y`` exit 1 when a macro-F1 is below its floor (``make test``).

    python scripts/eval_nlu.py [--model models/assistant.tar.gz] [--floor 0.85] [--real-floor 0.8]
                               [--cross-validation]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load_examples(path: Path) -> List[Tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


Prediction = Tuple[str, str, float]  # served intent (maybe nlu_fallback), best real intent, its confidence


async def predict(model: Path, texts: List[str]) -> Tuple[List[Prediction], float, float]:
    """Predictions, the model's load time and the mean parse latency (s)."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # unconfigured, structlog prints every parse at debug level (and that costs time)
    configure_structlog(logging.WARNING)

    start = time.perf_counter()
    agent = Agent.load(str(model))
    load_time = time.perf_counter() - start
    start = time.perf_counter()
    predicted = []
    for text in texts:
        result = await agent.parse_message(text)
        served = (result.get("intent") or {}).get("name") or "None"
        ranking = [r for r in result.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
        best = ranking[0] if ranking else {"name": served, "confidence": 0.0}
        predicted.append((served, best["name"], float(best.get("confidence") or 0.0)))
    latency = (time.perf_counter() - start) / max(1, len(texts))
    return predicted, load_time, latency


def report(title: str, gold: List[str], predicted: List[str], picture: Path | None) -> float:
    """Print accuracy, macro-F1, per-intent F1 and the worst confusions; return macro-F1."""
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    labels = sorted(set(gold))
    macro = f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)
    print(f"\n== {title} ({len(gold)} messages) ==")
    print(f"intent accuracy {accuracy_score(gold, predicted):.3f}   macro-F1 {macro:.3f}")
    per = classification_report(gold, predicted, labels=labels, output_dict=True, zero_division=0)
    print("per-intent F1: " + "  ".join(f"{k} {per[k]['f1-score']:.2f}" for k in labels))
    confusions = collections.Counter((g, p) for g, p in zip(gold, predicted, strict=False) if g != p)
    if confusions:
        print("worst confusions (gold -> predicted: count):")
        for (g, p), n in confusions.most_common(8):
            print(f"  {g} -> {p}: {n}")
    if picture is not None:
        draw_confusion(gold, predicted, labels, picture)
    return macro


def draw_confusion(gold: List[str], predicted: List[str], labels: List[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    columns = labels + sorted(set(predicted) - set(labels))
    matrix = confusion_matrix(gold, predicted, labels=columns)[: len(labels)]
    fig, ax = plt.subplots(figsize=(12, 10))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(columns)), columns, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i in range(len(labels)):
        for j in range(len(columns)):
            if matrix[i, j]:
                ax.text(j, i, matrix[i, j], ha="center", va="center", fontsize=7,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(f"Intent confusion matrix: {path.stem}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"confusion matrix written to {path.relative_to(ROOT)}")


def fallback_threshold() -> float:
    """The FallbackClassifier threshold in config.yml."""
    from ruamel.yaml import YAML

    config = YAML(typ="safe").load((ROOT / "config.yml").read_text())
    return next(float(c.get("threshold", 0.3)) for c in config["pipeline"] if c["name"] == "FallbackClassifier")


def coverage(gold: List[str], predictions: List[Prediction], threshold: float) -> Tuple[float, float]:
    """Share of messages answered (best confidence >= threshold) and accuracy of those answered."""
    answered = [(g, p) for g, (_, p, c) in zip(gold, predictions, strict=True) if c >= threshold]
    accuracy = sum(g == p for g, p in answered) / len(answered) if answered else 0.0
    return len(answered) / max(1, len(gold)), accuracy


def draw_coverage(gold: List[str], predictions: List[Prediction], chosen: float, path: Path) -> None:
    """Coverage and answered accuracy against the fallback threshold, the chosen one marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    thresholds = [i / 100 for i in range(0, 96)]
    points = [coverage(gold, predictions, t) for t in thresholds]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(thresholds, [c for c, _ in points], label="share answered (coverage)")
    ax.plot(thresholds, [a for _, a in points], label="accuracy of answered")
    ax.axvline(chosen, color="grey", linestyle="--", label=f"config.yml threshold {chosen}")
    ax.set_xlabel("FallbackClassifier threshold")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Real test set ({len(gold)} messages): coverage vs accuracy")
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"coverage/accuracy curve written to {path.relative_to(ROOT)}")


def evaluate(model: Path, path: Path, title: str, picture: str) -> Tuple[float, List[str], List[Prediction]]:
    examples = load_examples(path)
    texts, gold = [t for t, _ in examples], [i for _, i in examples]
    predictions, load_time, latency = asyncio.run(predict(model, texts))
    print(f"\nmodel {model.name}: load {load_time:.1f} s, parse {latency * 1000:.1f} ms/message")
    macro = report(title, gold, [p[0] for p in predictions], ROOT / "results" / picture)
    return macro, gold, predictions


def cross_validate(folds: int) -> float:
    """Rasa's own k-fold cross-validation on the training data; returns macro-F1."""
    out = ROOT / "results" / "cross_validation"
    cmd = [sys.executable, "-m", "rasa", "test", "nlu", "--nlu", "data/nlu", "--config", "config.yml",
           "--cross-validation", "--folds", str(folds), "--out", str(out), "--quiet"]
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    data: Dict = json.loads((out / "intent_report.json").read_text())
    labels = [k for k in data if k not in ("accuracy", "macro avg", "weighted avg", "micro avg")]
    print(f"\n== {folds}-fold cross-validation of the training data ==")
    print(f"intent accuracy {data.get('accuracy', 0):.3f}   macro-F1 {data['macro avg']['f1-score']:.3f}")
    print("per-intent F1: " + "  ".join(f"{k} {data[k]['f1-score']:.2f}" for k in sorted(labels)))
    return data["macro avg"]["f1-score"]


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "assistant.tar.gz"))
    parser.add_argument("--heldout", default=str(ROOT / "tests" / "nlu" / "heldout.yml"))
    parser.add_argument("--real", default=str(ROOT / "tests" / "nlu" / "real_test.yml"))
    parser.add_argument("--floor", type=float, default=None, help="held-out macro-F1 floor")
    parser.add_argument("--real-floor", type=float, default=None, help="real test set macro-F1 floor")
    parser.add_argument("--cross-validation", action="store_true")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    from rasa.utils.common import configure_logging_and_warnings

    configure_logging_and_warnings(logging.WARNING)

    model = Path(args.model)
    real_macro, gold, predictions = evaluate(model, Path(args.real), "real test set (JD customer messages)",
                                             "real_confusion.png")
    threshold = fallback_threshold()
    share, accuracy = coverage(gold, predictions, threshold)
    print(f"at the fallback threshold {threshold}: {share:.1%} of real messages answered, "
          f"{accuracy:.1%} of those answered correctly")
    draw_coverage(gold, predictions, threshold, ROOT / "results" / "real_coverage.png")
    macro, _, _ = evaluate(model, Path(args.heldout), "held-out set", "heldout_confusion.png")
    if args.cross_validation:
        cross_validate(args.folds)
    status = 0
    for name, value, floor in (("held-out", macro, args.floor), ("real test set", real_macro, args.real_floor)):
        if floor is None:
            continue
        verdict = "OK" if value >= floor else "FAIL"
        print(f"{verdict}: {name} macro-F1 {value:.3f} {'>=' if value >= floor else 'is below'} floor {floor}")
        status |= value < floor
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
