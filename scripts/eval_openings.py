"""Replay the opening messages of real public conversations through the NLU (issue #13, point 6).

``data/real/openings.tsv`` holds the first customer message of 400 JD customer-service
sessions (public JDDC logs, masked; provenance per line and in data/real/README.md). Each is
parsed by the trained model; a message whose intent comes back as ``nlu_fallback`` is one the
bot would answer with "I did not understand" (utter_ask_rephrase). Prints that share (goal:
under 10 %), the share redirected as out of scope, the intents the rest were given, and the
messages that fell back, so trainers can see what is missing.

    python scripts/eval_openings.py [--model models/assistant.tar.gz] [--show 20] [--ceiling 0.10]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import csv
import logging
import os
import sys
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
OPENINGS = ROOT / "data" / "real" / "openings.tsv"
LONG = 40  # characters: a message of several sentences (issue #13 point 6)


def near_key(text: str) -> str:
    """The leak test's normalisation (tests/nlu/test_real_set.py): script, width, case, digits, punctuation."""
    import re
    import unicodedata

    from bot.text import to_simplified

    text = unicodedata.normalize("NFKC", to_simplified(text)).lower()
    return re.sub(r"[\W_]+", "", re.sub(r"\d+(?:\.\d+)?", "0", text))


def training_keys() -> set:
    from rasa.shared.nlu.training_data.loading import load_data

    return {near_key(m.get("text")) for m in load_data(str(ROOT / "data" / "nlu")).intent_examples}


async def intents(model: Path, texts: List[str]) -> List[str]:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    return [((await agent.parse_message(t)).get("intent") or {}).get("name") or "None" for t in texts]


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "assistant.tar.gz"))
    parser.add_argument("--show", type=int, default=20, help="how many fallen-back openings to print")
    parser.add_argument("--ceiling", type=float, default=None, help="exit 1 if the fallback share is above")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    with OPENINGS.open(encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle, delimiter="\t")]
    trained = training_keys()
    unseen = [t for t in texts if near_key(t) not in trained]
    print(
        f"{len(texts) - len(unseen)} of the {len(texts)} openings are (near copies of) training "
        "examples and are left out"
    )
    texts = unseen
    predicted = asyncio.run(intents(Path(args.model), texts))
    counts = collections.Counter(predicted)
    fallback = counts["nlu_fallback"] / len(texts)
    print(f"{len(texts)} real conversation openings replayed (data/real/openings.tsv)")
    print(f"answered with 'I did not understand' (nlu_fallback): {counts['nlu_fallback']} = {fallback:.1%}")
    print(f"redirected as out of scope: {counts['out_of_scope']} = {counts['out_of_scope'] / len(texts):.1%}")
    # vague_followup is answered with a question (which order, what problem), not "I did not
    # understand"; it is counted apart so the fallback figure cannot hide it
    vague = counts["vague_followup"]
    print(f"asked which order and problem (vague_followup, needs the earlier chat): {vague} = {vague / len(texts):.1%}")
    long = [p for t, p in zip(texts, predicted, strict=True) if len(t) > LONG]
    if long:
        fell_long = sum(p == "nlu_fallback" for p in long)
        print(f"long openings (> {LONG} characters): {len(long)}, answered 'I did not understand': "
              f"{fell_long} = {fell_long / len(long):.1%}")
    print("intents given: " + ", ".join(f"{k} {v}" for k, v in counts.most_common() if k != "nlu_fallback"))
    fell = [t for t, p in zip(texts, predicted, strict=True) if p == "nlu_fallback"]
    for text in fell[: args.show]:
        print(f"  fallback: {text}")
    if args.ceiling is not None and fallback > args.ceiling:
        print(f"FAIL: fallback share {fallback:.1%} is above {args.ceiling:.0%}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
