"""Measure the NLU model: held-out set, optionally 5-fold cross-validation of the training data.

Prints intent accuracy, macro-F1, per-intent F1 and the worst confusions, and writes a
confusion-matrix picture to results/. With ``--floor X`` it exits 1 when the held-out
macro-F1 is below X (``make test`` uses 0.85).

    python scripts/eval_nlu.py [--model models/assistant.tar.gz] [--floor 0.85] [--cross-validation]
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
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


# shared with the trainer's model comparison (bot/trainer/evaluate.py), so both measure alike;
# bench.py and compare_pipelines.py import them from here
from bot.trainer.evaluate import load_examples, predict  # noqa: E402


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
    ax.set_title("Held-out intent confusion matrix")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"confusion matrix written to {path.relative_to(ROOT)}")


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
    parser.add_argument("--floor", type=float, default=None)
    parser.add_argument("--cross-validation", action="store_true")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    from rasa.utils.common import configure_logging_and_warnings

    configure_logging_and_warnings(logging.WARNING)

    examples = load_examples(Path(args.heldout))
    texts, gold = [t for t, _ in examples], [i for _, i in examples]
    predicted, load_time, latency = asyncio.run(predict(Path(args.model), texts))
    print(f"model {Path(args.model).name}: load {load_time:.1f} s, parse {latency * 1000:.1f} ms/message")
    macro = report("held-out set", gold, predicted, ROOT / "results" / "heldout_confusion.png")
    if args.cross_validation:
        cross_validate(args.folds)
    if args.floor is not None and macro < args.floor:
        print(f"\nFAIL: held-out macro-F1 {macro:.3f} is below the floor {args.floor}")
        return 1
    if args.floor is not None:
        print(f"\nOK: held-out macro-F1 {macro:.3f} >= floor {args.floor}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
