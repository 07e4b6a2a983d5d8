"""Command line for the shop's data.

    python -m bot db upgrade          migrate the database to the newest schema
    python -m bot db seed             migrate, then seed the demo shop if it is empty
    python -m bot db reset-demo       wipe the demo shop's orders and cases, seed again
    python -m bot cases --order ID    that order's after-sales cases as JSON
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from bot.store import seed
from bot.store.db import make_engine, session_factory, upgrade_to_head
from bot.store.repository import OrderRepository


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="售后助手: the shop's data")
    sub = parser.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", help="database schema and demo data")
    db.add_argument("action", choices=["upgrade", "seed", "reset-demo"])
    cases = sub.add_parser("cases", help="an order's after-sales cases as JSON")
    cases.add_argument("--order", required=True, help="the order number")
    return parser


def _db(action: str) -> int:
    engine = make_engine()
    upgrade_to_head(engine)
    sessions = session_factory(engine)
    if action == "seed":
        seeded = seed.seed_demo(sessions)
        print("Seeded the demo shop." if seeded else "Database ready (already has orders).")
    elif action == "reset-demo":
        seed.reset_demo(sessions)
        print("Demo shop reset: orders, cases and conversation records seeded afresh.")
    else:
        print("Database schema is up to date.")
    return 0


def _cases(order_id: str) -> int:
    engine = make_engine()
    upgrade_to_head(engine)
    repo = OrderRepository(session_factory(engine))
    rows = [
        {
            "case_id": c.case_id,
            "kind": c.kind,
            "rule": c.rule,
            "status": c.status,
            "refund_amount": float(c.refund_amount) if c.refund_amount is not None else None,
            "opened_at": c.opened_at.isoformat(timespec="seconds"),
            "closed_at": c.closed_at.isoformat(timespec="seconds") if c.closed_at else None,
            "conversation_id": c.conversation_id,
            "note": c.note,
        }
        for c in repo.cases_for_order(order_id)
    ]
    print(json.dumps(rows, ensure_ascii=False, indent=2))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "db":
            return _db(args.action)
        return _cases(args.order)
    except Exception as error:  # a clear message, not a stack trace
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
