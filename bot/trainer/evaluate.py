"""Measuring a model on the NLU test sets and the conversation tests, and comparing two models.

``scripts/eval_nlu.py`` (``make eval``, ``make test``) uses ``load_examples`` and ``predict``
from here, so the trainer's comparison and the command line measure the same way.

A comparison runs both models over every test set given: a set that is required and missing
is an error, an optional one that is missing is listed under ``missing`` (never skipped
silently). Per set: accuracy, macro-F1, per-intent F1 of both models, and the messages whose
prediction changed. Conversation tests (``rasa test core`` through ``bot.serve``) are run for
both models; a story that passed with the active model and fails with the candidate is
"newly failing", which closes the promotion gate.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ruamel.yaml import YAML

from bot.trainer import privacy

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
REAL = ROOT / "tests" / "nlu" / "real_test.yml"
CONVERSATIONS = ROOT / "tests" / "conversations"


def load_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, intent) of every example of an NLU file, as Rasa reads it."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


async def predict(model: Path, texts: List[str]) -> Tuple[List[str], float, float]:
    """Predicted intents, the model's load time and the mean parse latency (s)."""
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
        predicted.append((result.get("intent") or {}).get("name") or "None")
    latency = (time.perf_counter() - start) / max(1, len(texts))
    return predicted, load_time, latency


def scores(gold: List[str], predicted: List[str]) -> Dict[str, Any]:
    """Accuracy, macro-F1 over the gold intents, and F1 per gold intent."""
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(gold))
    per = f1_score(gold, predicted, labels=labels, average=None, zero_division=0)
    return {"accuracy": float(accuracy_score(gold, predicted)),
            "macro_f1": float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
            "per_intent_f1": {label: float(f) for label, f in zip(labels, per, strict=True)}}


def compare_set(name: str, path: Path, candidate: Path, active: Path) -> Dict[str, Any]:
    """Both models on one NLU test set: their scores side by side and what changed."""
    examples = load_examples(path)
    texts, gold = [t for t, _ in examples], [i for _, i in examples]
    after = asyncio.run(predict(candidate, texts))[0]
    before = asyncio.run(predict(active, texts))[0]
    new, old = scores(gold, after), scores(gold, before)
    changed = [{"text": privacy.mask_for_screen(t), "gold": g, "before": b, "after": a}
               for t, g, b, a in zip(texts, gold, before, after, strict=True) if a != b]
    return {"name": name, "path": str(path), "messages": len(texts), **new,
            "active_accuracy": old["accuracy"], "active_macro_f1": old["macro_f1"],
            "active_per_intent_f1": old["per_intent_f1"], "changed": changed}


def story_names(stories: Path) -> List[str]:
    """Every story name of a conversation-test file or folder."""
    files = sorted(stories.glob("*.yml")) if stories.is_dir() else [stories]
    names: List[str] = []
    for file in files:
        data = YAML(typ="safe").load(file.read_text(encoding="utf-8")) or {}
        names += [s["story"] for s in data.get("stories") or [] if "story" in s]
    return names


def conversation_failures(model: Path, stories: Path, project: Path = ROOT, nlu: bool = False) -> Tuple[List[str], str]:
    """Names of the conversation tests the model fails, and the tail of Rasa's output.

    Without ``nlu`` (what ``make test`` runs) the stories' intent labels drive the dialogue;
    with it (``--e2e``) the model reads each message's text too, and a wrong intent or entity
    fails the story.
    """
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, SQLALCHEMY_SILENCE_UBER_WARNING="1", TF_CPP_MIN_LOG_LEVEL="2",
                   RASA_TELEMETRY_ENABLED="false", MPLBACKEND="Agg",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        done = subprocess.run([sys.executable, "-m", "bot.serve", "test", "core", "--model", str(model),
                               "--stories", str(stories), "--out", out, "--no-plot", *(["--e2e"] if nlu else [])],
                              cwd=project, env=env, capture_output=True, text=True)
        report = Path(out) / "failed_test_stories.yml"
        if done.returncode != 0 or not (Path(out) / "story_report.json").exists():
            raise RuntimeError(f"rasa test core failed:\n{(done.stdout + done.stderr)[-2000:]}")
        failed = story_names(report) if report.exists() and report.read_text().strip() else []
        return [name.rsplit(" (", 1)[0] for name in failed], done.stdout[-1000:]


def compare_conversations(candidate: Path, active: Path, stories: Path = CONVERSATIONS,
                          project: Path = ROOT) -> Dict[str, Any]:
    """Which conversation tests each model fails, dialogue alone and with the NLU reading the text.

    A test that passed with the active model and fails with the candidate, in either mode, is
    newly failing and closes the gate ("(with NLU)" marks the second mode).
    """
    result: Dict[str, Any] = {"stories": len(story_names(stories)), "failed_before": [], "failed_after": []}
    for nlu, mark in ((False, ""), (True, " (with NLU)")):
        after, _ = conversation_failures(candidate, stories, project, nlu)
        before, _ = conversation_failures(active, stories, project, nlu)
        result["failed_before"] += [s + mark for s in before]
        result["failed_after"] += [s + mark for s in after]
    result["newly_failing"] = [s for s in result["failed_after"] if s not in result["failed_before"]]
    result["newly_passing"] = [s for s in result["failed_before"] if s not in result["failed_after"]]
    return result


def compare(candidate: Path, active: Path, required: Sequence[Path] = (HELDOUT,), optional: Sequence[Path] = (REAL,),
            stories: Optional[Path] = CONVERSATIONS, project: Path = ROOT) -> Dict[str, Any]:
    """The whole comparison the trainer sees before promoting ``candidate`` over ``active``."""
    result: Dict[str, Any] = {"candidate": str(candidate), "active": str(active), "sets": [], "missing": []}
    for path in [*required, *optional]:
        path = Path(path)
        if not path.exists():
            if path in [Path(p) for p in required]:
                raise FileNotFoundError(f"required test set {path} is missing")
            result["missing"].append(str(path))
            continue
        result["sets"].append(compare_set(path.stem, path, candidate, active))
    if stories is not None:
        result["conversations"] = compare_conversations(candidate, active, stories, project)
    return result
