"""What the trainer's console tests serve: a small throwaway project, a models folder, accounts.

The project is a git copy of the real training data cut to a few examples per intent (so a
training run in a test takes seconds, not a minute), a small held-out set and one short
conversation test. The server writes corrections, exports and candidates there, never into
this checkout (``TRAINER_PROJECT``, ``TRAINER_MODELS``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict

from tests.integration.conftest import MODEL, ROOT
from tests.unit.trainer_project import make_project, run

EXAMPLES_KEPT = 6
HELDOUT = """version: "3.1"
nlu:
  - intent: greet
    examples: |
      - 哈喽哈喽有人没
      - 在不在呀亲亲
  - intent: request_return
    examples: |
      - 这件我不想要了能退回去吗
      - 收到的东西不喜欢想退掉
  - intent: ask_human
    examples: |
      - 帮我接个真人客服
      - 我要跟人工说话
"""
STORY = """version: "3.1"
stories:
  - story: greet and leave
    steps:
      - user: |
          你好
        intent: greet
      - action: utter_greet
"""


def _shrink(text: str) -> str:
    """Keep the first few examples of every intent block (lookup tables and regexes stay whole)."""
    out, kept, in_intent = [], 0, False
    for line in text.splitlines(keepends=True):
        if re.match(r"  - (intent|lookup|regex|synonym):", line):
            in_intent, kept = line.startswith("  - intent:"), 0
        if in_intent and re.match(r"      - ", line):
            kept += 1
            if kept > EXAMPLES_KEPT:
                continue
        out.append(line)
    return "".join(out)


def small_project(where: Path) -> Path:
    """data/ cut down, domain and config as served, tests/nlu and tests/conversations of its own."""
    project = make_project(where, git=False)
    for path in (project / "data" / "nlu").glob("*.yml"):
        path.write_text(_shrink(path.read_text(encoding="utf-8")), encoding="utf-8")
    (project / "tests" / "nlu").mkdir(parents=True)
    (project / "tests" / "nlu" / "heldout.yml").write_text(HELDOUT, encoding="utf-8")
    (project / "tests" / "conversations").mkdir()
    (project / "tests" / "conversations" / "test_small.yml").write_text(STORY, encoding="utf-8")
    run(project, "init", "-q", "-b", "main")
    run(project, "add", ".")
    run(project, "-c", "user.name=seed", "-c", "user.email=seed@localhost", "commit", "-q", "-m", "seed")
    return project


ACTIVE_F1 = {
    "greet": 0.9,
    "ask_human": 1.0,
    "request_return": 0.86,
    "color_mismatch": 0.8,
    "shipping_delay": 0.75,
}


def evaluation(greet_after: float) -> Dict[str, Any]:
    """An evaluation as ``training`` writes it: the candidate beside the active model."""
    after = dict(ACTIVE_F1, greet=greet_after, request_return=0.9, shipping_delay=0.8)
    changed = [
        {
            "text": "物流三天没动了",
            "gold": "shipping_delay",
            "before": "check_order_status",
            "after": "shipping_delay",
        },
        {
            "text": "在不在呀亲亲",
            "gold": "greet",
            "before": "greet",
            "after": "out_of_scope" if greet_after < 0.9 else "greet",
        },
    ]
    macro = round(sum(after.values()) / len(after), 3)
    return {
        "sets": [
            {
                "name": "heldout",
                "path": "tests/nlu/heldout.yml",
                "messages": 6,
                "accuracy": macro,
                "macro_f1": macro,
                "per_intent_f1": after,
                "active_accuracy": 0.862,
                "active_macro_f1": 0.862,
                "active_per_intent_f1": ACTIVE_F1,
                "changed": changed[: 1 if greet_after >= 0.9 else 2],
            }
        ],
        "missing": [],
        "conversations": {
            "stories": 1,
            "failed_before": [],
            "failed_after": [],
            "newly_failing": [],
            "newly_passing": [],
        },
    }


def models_folder(where: Path) -> Path:
    """The served model, one candidate that passes the gate and one that fails it (greet drops)."""
    candidates = where / "candidates"
    candidates.mkdir(parents=True)
    shutil.copy(MODEL, where / "assistant.tar.gz")
    for name, greet in (("cand-fail", 0.5), ("cand-pass", 0.95)):  # cand-pass is the newest
        shutil.copy(MODEL, candidates / f"{name}.tar.gz")
        (candidates / f"{name}.evaluation.json").write_text(json.dumps(evaluation(greet), ensure_ascii=False))
        time.sleep(0.01)
    return where


def add_user(database_url: str, name: str, role: str, password: str, display: str = "") -> None:
    env: Dict[str, str] = dict(os.environ, DATABASE_URL=database_url)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "users",
            "add",
            name,
            "--role",
            role,
            "--display-name",
            display or name,
        ],
        cwd=ROOT,
        env=env,
        input=password + "\n",
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
    )
