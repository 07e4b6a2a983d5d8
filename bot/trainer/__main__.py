"""The trainer's loop from a terminal, for shops without the console (and for checking it).

    python -m bot.trainer inbox [--limit 20]          what the bot misunderstood lately
    python -m bot.trainer discard ID --trainer NAME
    python -m bot.trainer annotate ID INTENT --trainer NAME
    python -m bot.trainer export CONVERSATION_ID       a conversation test in tests/conversations/
    python -m bot.trainer train [--wait]               a candidate in models/candidates/
    python -m bot.trainer status RUN_ID
    python -m bot.trainer models

Switching the running server's model needs the server itself: the console does it
(``bot.trainer.models.promote``). The tracker store and the shop share ``DATABASE_URL``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import List, Optional

from bot.trainer import export, models, training, writer
from bot.trainer.inbox import Inbox


def _print(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1, default=str))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.trainer", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("inbox").add_argument("--limit", type=int, default=20)
    discard = sub.add_parser("discard")
    discard.add_argument("id")
    discard.add_argument("--trainer", required=True)
    annotate = sub.add_parser("annotate")
    annotate.add_argument("id")
    annotate.add_argument("intent")
    annotate.add_argument("--trainer", required=True)
    sub.add_parser("export").add_argument("conversation_id")
    sub.add_parser("train").add_argument("--wait", action="store_true")
    sub.add_parser("status").add_argument("run_id")
    sub.add_parser("models")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "inbox":
        for item in Inbox().items(limit=args.limit):
            print(f"{item['id']}  x{item['count']}  {item['intent']} {item['confidence']:.2f}  "
                  f"{','.join(item['reasons'])}  {item['text']}")
    elif args.command == "discard":
        Inbox().discard(args.id, args.trainer)
    elif args.command == "annotate":
        try:
            result = Inbox().annotate(args.id, args.intent, [], trainer=args.trainer)
        except writer.SaveRefused as refused:
            print(f"refused: {refused.reason}", file=sys.stderr)
            return 1
        _print({"added": result.added, "commit": result.commit})
    elif args.command == "export":
        print(export.export(None, args.conversation_id))
    elif args.command == "train":
        run_id = training.start()
        print(run_id)
        while args.wait:
            state = training.status(run_id)
            print(f"\r{state['state']:<10} {state['progress']:.0%}", end="", flush=True)
            if state["state"] in ("done", "failed"):
                print()
                _print({"gate": state["gate"], "error": state.get("error")})
                return 0 if state["state"] == "done" else 1
            time.sleep(2)
    elif args.command == "status":
        _print(training.status(args.run_id))
    elif args.command == "models":
        for model in models.list_models():
            gate = model["gate"] or {}
            print(f"{model['name']}  {'active ' if model['active'] else ''}{'newest ' if model['newest'] else ''}"
                  f"gate {'passed' if gate.get('passed') else gate.get('reasons', 'not evaluated')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
