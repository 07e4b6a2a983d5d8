"""Precision and recall of the handoff triggers (bot.handoff.trigger_for) on labelled messages.

    .venv/bin/python scripts/measure_triggers.py [files...]   (default: tests/nlu/heldout.yml)

Each message's label is its intent: ``ask_human`` should bring a person ("asks for a person"),
``complain`` is where anger and threats live (the urgent triggers), everything else should
keep the bot. Prints one row per trigger family and the messages it got wrong.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import List, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.handoff import trigger_for  # noqa: E402


def examples(path: Path) -> List[Tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = []
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples") or "").splitlines():
            text = line.strip()[2:].strip() if line.strip().startswith("- ") else ""
            text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # [1001…](order_id) -> 1001…
            if text:
                found.append((block["intent"], text))
    return found


def measure(rows: List[Tuple[str, str]]) -> None:
    families = [
        ("asks for a person", {"ask_human"}, lambda t: t is not None and not t.urgent),
        ("anger / threats (urgent)", {"complain"}, lambda t: t is not None and t.urgent),
        ("any trigger", {"ask_human", "complain"}, lambda t: t is not None),
    ]
    print(f"{len(rows)} labelled messages\n")
    print("| trigger | labelled | fired | right | precision | recall |")
    print("| --- | --- | --- | --- | --- | --- |")
    mistakes = []
    for name, wanted, fired in families:
        labelled = fires = right = 0
        for intent, text in rows:
            hit = fired(trigger_for(text))
            labelled += intent in wanted
            fires += hit
            right += hit and intent in wanted
            if name == "any trigger" and hit != (intent in wanted):
                mistakes.append(("missed" if not hit else "false alarm", intent, text))
        precision = right / fires if fires else 0.0
        recall = right / labelled if labelled else 0.0
        print(f"| {name} | {labelled} | {fires} | {right} | {precision:.0%} | {recall:.0%} |")
    print("\nwrong:")
    for kind, intent, text in mistakes:
        print(f"  {kind:11} {intent:22} {text}")


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]] or [ROOT / "tests" / "nlu" / "heldout.yml"]
    measure([row for path in paths for row in examples(path)])
