"""Compare NLU pipelines on the same data: held-out macro-F1, training time, load time, latency.

Each variant is config.yml with its classifier section swapped; everything before the
classifier (script normalisation, jieba, sparse features) is the same for all. Prints a
Markdown table for the README.

    python scripts/compare_pipelines.py [--only diet-60,rasa-logreg]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from eval_nlu import load_examples, predict  # noqa: E402

# What a variant replaces: intent classifiers, entity taggers and the features they learn from.
SWAPPED = ("LinearIntentClassifier", "DIETClassifier", "LogisticRegressionClassifier", "CRFEntityExtractor",
               "SpacyNLP", "SpacyEntityExtractor", "SpacyFeaturizer", "RegexFeaturizer",
               "LexicalSyntacticFeaturizer", "CountVectorsFeaturizer")

# The sparse features DIET and Rasa's logistic regression learn from (the served linear
# classifier builds its own TF-IDF n-grams and needs none of them).
FEATURIZERS: List[Dict[str, Any]] = [
    {"name": "RegexFeaturizer", "use_word_boundaries": False, "use_lookup_tables": True},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer", "max_ngram": 2},
    {"name": "CountVectorsFeaturizer", "analyzer": "char", "min_ngram": 1, "max_ngram": 3},
]


def _base_pipeline() -> List[Dict[str, Any]]:
    from ruamel.yaml import YAML

    config = YAML(typ="safe").load((ROOT / "config.yml").read_text())
    return [c for c in config["pipeline"] if c["name"].rsplit(".", 1)[-1] not in SWAPPED]


def _insert_before_extractors(pipeline: List[Dict[str, Any]], extra: List[Dict[str, Any]],
                              fallback: float) -> List[Dict[str, Any]]:
    names = [c["name"] for c in pipeline]
    at = names.index("RegexEntityExtractor")
    out = copy.deepcopy(pipeline[:at] + extra + pipeline[at:])
    for component in out:
        if component["name"] == "FallbackClassifier":
            component["threshold"] = fallback  # each classifier at the threshold tuned for it
    return out


def variants() -> Dict[str, List[Dict[str, Any]]]:
    base = _base_pipeline()
    return {
        "linear TF-IDF (chosen)": _insert_before_extractors(
            base, [{"name": "bot.nlu.classifier.LinearIntentClassifier"}], 0.3),
        "diet-60": _insert_before_extractors(
            base, FEATURIZERS + [{"name": "DIETClassifier", "epochs": 60, "constrain_similarities": True}], 0.45),
        "rasa-logreg": _insert_before_extractors(
            base, FEATURIZERS + [{"name": "LogisticRegressionClassifier", "max_iter": 300, "solver": "lbfgs"}], 0.45),
    }


def train(pipeline: List[Dict[str, Any]], workdir: Path) -> tuple[Path, float]:
    from rasa.model_training import train_nlu
    from ruamel.yaml import YAML

    config = {"recipe": "default.v1", "language": "zh", "assistant_id": "compare",
              "pipeline": copy.deepcopy(pipeline), "policies": []}
    path = workdir / "config.yml"
    with path.open("w") as f:
        YAML().dump(config, f)
    start = time.perf_counter()
    model = train_nlu(str(path), str(ROOT / "data" / "nlu"), str(workdir), fixed_model_name="nlu")
    return Path(model), time.perf_counter() - start


def main(argv: List[str] | None = None) -> int:
    from sklearn.metrics import accuracy_score, f1_score

    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    args = parser.parse_args(argv)
    chosen = {k: v for k, v in variants().items() if not args.only or k in args.only.split(",")}
    import rasa.core.agent  # noqa: F401  (import once, so load times are the models' own)

    examples = load_examples(ROOT / "tests" / "nlu" / "heldout.yml")
    texts, gold = [t for t, _ in examples], [i for _, i in examples]
    rows = []
    for name, pipeline in chosen.items():
        with tempfile.TemporaryDirectory() as tmp:
            model, train_s = train(pipeline, Path(tmp))
            predicted, load_s, latency = asyncio.run(predict(model, texts))
        # macro over the gold intents (a fallback prediction counts as a miss, not a class)
        macro = f1_score(gold, predicted, labels=sorted(set(gold)), average="macro", zero_division=0)
        acc = accuracy_score(gold, predicted)
        rows.append((name, macro, acc, train_s, load_s, latency * 1000))
        print(f"{name}: macro-F1 {macro:.3f} acc {acc:.3f} train {train_s:.0f}s load {load_s:.1f}s "
              f"parse {latency * 1000:.1f}ms", flush=True)
    print("\n| pipeline | held-out macro-F1 | accuracy | training | model load | parse latency |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, macro, acc, train_s, load_s, ms in rows:
        print(f"| {name} | {macro:.3f} | {acc:.3f} | {train_s:.0f} s | {load_s:.1f} s | {ms:.1f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
