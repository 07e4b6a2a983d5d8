"""Write the real-message NLU files from the labelled corpus ``data/real/messages.tsv``.

The corpus holds every labelled real customer message once, with its intent, its split and
where it came from (see data/real/README.md). This script writes

* ``tests/nlu/real_test.yml``: the ``test`` split, drawn and frozen before any training
  example was chosen; never train on it (tests/nlu/test_real_set.py checks);
* ``data/nlu/real.yml``: the ``train`` split.

    python scripts/real_data.py [--check]

With ``--check`` it writes nothing and exits 1 if either file differs from the corpus.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "real" / "messages.tsv"
TARGETS = {
    "test": (
        ROOT / "tests" / "nlu" / "real_test.yml",
        "# Real customer messages (public JD customer-service logs), the held-out real test set.\n"
        "# Drawn and frozen before any training example was chosen: never copy these into data/.\n"
        "# Generated from data/real/messages.tsv by scripts/real_data.py; provenance there.\n",
    ),
    "train": (
        ROOT / "data" / "nlu" / "real.yml",
        "# Real customer messages (public JD customer-service logs), training split.\n"
        "# Generated from data/real/messages.tsv by scripts/real_data.py; provenance there.\n",
    ),
}


def read_corpus(path: Path = CORPUS) -> List[Dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def render(rows: List[Dict[str, str]], header: str) -> str:
    """Rasa 3 YAML, one block per intent, intents and messages in corpus order."""
    by_intent: Dict[str, List[str]] = defaultdict(list)
    for row in rows:
        by_intent[row["intent"]].append(row["text"])
    lines = ['version: "3.1"', header.rstrip("\n"), "nlu:"]
    for intent in sorted(by_intent):
        lines += [f"  - intent: {intent}", "    examples: |"]
        lines += [f"      - {text}" for text in by_intent[intent]]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    rows = read_corpus()
    status = 0
    for split, (target, header) in TARGETS.items():
        text = render([r for r in rows if r["split"] == split], header)
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                print(f"{target.relative_to(ROOT)} differs from {CORPUS.relative_to(ROOT)}")
                status = 1
        else:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)} ({sum(r['split'] == split for r in rows)} messages)")
    return status


if __name__ == "__main__":
    sys.exit(main())
