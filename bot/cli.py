"""Command line for the shop's data.

    python -m bot db upgrade            migrate the database to the newest schema
    python -m bot db seed               migrate, then seed the demo shop if it has no orders
    python -m bot db reset-demo         wipe the demo shop's orders and cases, seed again
    python -m bot cases --order ID      that order's after-sales cases as a JSON list
    python -m bot followups [--all]     promises due and overdue (R14); --all: not yet due too
    python -m bot users add NAME --role agent|trainer|manager [--display-name 小王]
                                        a console account; the password is read from standard
                                        input (without echo at a terminal; piped: its first line)

The database is DATABASE_URL, else the embedded ``var/shop.db`` (``--database-url``
overrides both). Exit codes: 0 done, 1 the database said no, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime
from typing import Any, Dict, List, Optional

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.domain import Case
from bot.store import seed
from bot.store.db import make_engine, session_factory, upgrade_to_head
from bot.store.repository import OrderRepository

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


class UsageError(Exception):
    """Bad usage found after parsing (exit 2, like argparse's own errors)."""


def _order_id(text: str) -> str:
    """Order numbers are digits; anything else is a typo worth saying so, not an empty list."""
    if not re.fullmatch(r"\d{6,32}", text.strip()):
        raise argparse.ArgumentTypeError(f"not an order number: {text!r} (expected digits)")
    return text.strip()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="售后助手：the shop's data.")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: DATABASE_URL, else var/shop.db)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{db,cases,followups,users}")
    db = sub.add_parser("db", help="database schema and demo data")
    db.add_argument("action", choices=["upgrade", "seed", "reset-demo"])
    db.add_argument("--force", action="store_true", help="reset-demo even if non-demo orders are present")
    cases = sub.add_parser("cases", help="an order's after-sales cases as JSON")
    cases.add_argument("--order", required=True, type=_order_id, help="the order number")
    follow = sub.add_parser("followups", help="promises due and overdue (R14)")
    follow.add_argument("--all", action="store_true", help="also the promises not due yet")
    users = sub.add_parser("users", help="agent console accounts")
    users.add_argument("action", choices=["add"])
    users.add_argument("name", type=_username)
    users.add_argument("--role", required=True, choices=["agent", "trainer", "manager"])
    users.add_argument("--display-name", default="", help="the name shoppers see (default: NAME)")
    return parser


def _username(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.\-\u4e00-\u9fff]{2,40}", text):
        raise argparse.ArgumentTypeError(f"not a usable account name: {text!r} (2-40 letters, digits, _ . -)")
    return text


def _read_password() -> str:
    """At a terminal: asked twice, not echoed. Piped (scripts, tests): the first line of stdin."""
    import getpass

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UsageError("the two passwords differ")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def _users(engine: Engine, args: argparse.Namespace) -> str:
    from bot.console.auth import hash_password
    from bot.store.console import ConsoleRepository

    upgrade_to_head(engine)
    try:
        hashed = hash_password(_read_password())
    except ValueError as error:
        raise UsageError(str(error)) from error
    repo = ConsoleRepository(session_factory(engine))
    existed = repo.user(args.name) is not None
    repo.add_user(args.name, args.role, hashed, args.display_name or args.name)
    return f"{'Updated' if existed else 'Added'} console account {args.name} ({args.role})."


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _db(engine: Engine, action: str, force: bool) -> str:
    """Migrate first in every case: seeding or resetting an old schema would fail halfway."""
    upgrade_to_head(engine)
    sessions = session_factory(engine)
    if action == "seed":
        seeded = seed.seed_demo(sessions)
        return f"Seeded the demo shop ({len(seed.DEMO_ORDERS)} orders)." if seeded else "Already has orders."
    if action == "reset-demo":
        try:
            seed.reset_demo(sessions, force=force)
        except RuntimeError as error:
            raise UsageError(f"{error} (add --force if you mean it)") from error
        return "Demo shop reset: orders, cases and conversation records seeded afresh."
    return "Database schema is up to date."


def _mask(text: Optional[str]) -> Optional[str]:
    """Notes are free text; a mobile number typed into one is shown as 138****0004."""
    return _MOBILE.sub(r"\1****\2", text) if text else text


def case_json(case: Case) -> Dict[str, Any]:
    """One case as the JSON the CLI prints: money as a number, times as ISO 8601 (UTC)."""
    return {
        "case_id": case.case_id,
        "order_id": case.order_id,
        "kind": case.kind,
        "rule": case.rule,
        "status": case.status,
        "refund_amount": float(case.refund_amount) if case.refund_amount is not None else None,
        "opened_at": case.opened_at.isoformat(timespec="seconds"),
        "closed_at": case.closed_at.isoformat(timespec="seconds") if case.closed_at else None,
        "conversation_id": case.conversation_id,
        "note": _mask(case.note),
    }


def _cases(engine: Engine, order_id: str) -> str:
    """Read-only: an unmigrated database is reported, not silently migrated."""
    if not inspect(engine).has_table("after_sales_cases"):
        raise SQLAlchemyError("no schema yet: run `python -m bot db upgrade` first")
    rows: List[Dict[str, Any]] = [
        case_json(c) for c in OrderRepository(session_factory(engine)).cases_for_order(order_id)
    ]
    return json.dumps(rows, ensure_ascii=False, indent=2)


def _followups(engine: Engine, everything: bool, now: Optional[datetime] = None) -> str:
    """One line per promise not kept yet, most overdue first: what staff chase (R14)."""
    if not inspect(engine).has_table("follow_ups"):
        raise SQLAlchemyError("no schema yet: run `python -m bot db upgrade` first")
    now = now or datetime.utcnow()
    open_ = OrderRepository(session_factory(engine)).open_follow_ups()
    shown = [f for f in open_ if everything or f.due_at <= now]
    if not shown:
        return "没有到期的跟进事项。" if not everything else "没有未完成的跟进事项。"
    lines = [f"{'id':>5}  {'状态':<4}  {'到期 (UTC)':<16}  {'类型':<16}  {'售后单':>6}  承诺"]
    for f in shown:
        late = now - f.due_at
        state = f"逾期{int(late.total_seconds() // 3600)}h" if late.total_seconds() > 0 else "待办"
        promise = (_mask(f.promise) or "").replace("\n", " ")[:60]
        lines.append(f"{f.follow_up_id:>5}  {state:<4}  {f.due_at:%Y-%m-%d %H:%M}  {f.kind:<16}  "
                     f"{f.case_id or '-':>6}  {promise}")
    return "\n".join(lines)


def _run(engine: Engine, args: argparse.Namespace) -> str:
    if args.command == "db":
        return _db(engine, args.action, args.force)
    if args.command == "followups":
        return _followups(engine, args.all)
    if args.command == "users":
        return _users(engine, args)
    return _cases(engine, args.order)


def main(argv: Optional[List[str]] = None) -> int:
    """Run one command; returns the exit code instead of raising, so tests can call it."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # argparse already printed usage (2) or help (0)
        return int(done.code or 0)
    try:
        engine = make_engine(args.database_url)
    except (SQLAlchemyError, ImportError) as error:  # a malformed URL or a missing driver
        print(f"python -m bot: error: unusable database URL: {error}", file=sys.stderr)
        return 2
    try:
        print(_run(engine, args))
        return 0
    except UsageError as error:
        print(f"python -m bot: error: {error}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(f"python -m bot: database error ({_where(engine)}): {reason}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
