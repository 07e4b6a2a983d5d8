"""Console accounts and sessions: argon2 hashes, expiry, the login limiter, the CLI (issue #12)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from bot.console import auth
from bot.console.card import transcript
from bot.store.console import ConsoleMessage, ConsoleRepository, token_hash
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]


def test_passwords_are_argon2_hashes_and_checked(session_factory: sessionmaker) -> None:
    repo = ConsoleRepository(session_factory, clock=lambda: NOW)
    hashed = auth.hash_password("a long enough secret")
    assert hashed.startswith("$argon2id$") and "a long enough secret" not in hashed
    repo.add_user("alice", "agent", hashed, "小王")
    assert auth.check_password(repo, "alice", "a long enough secret")
    assert not auth.check_password(repo, "alice", "a long enough secreT")
    assert not auth.check_password(repo, "nobody", "a long enough secret")
    with pytest.raises(ValueError):
        auth.hash_password("short")


def test_sessions_expire_and_are_stored_by_hash_only(session_factory: sessionmaker) -> None:
    now = [NOW]
    repo = ConsoleRepository(session_factory, clock=lambda: now[0])
    repo.add_user("alice", "agent", "x", "小王")
    repo.create_session("cookie-value", "alice", "csrf-value", timedelta(hours=8))
    assert repo.session("cookie-value").csrf_token == "csrf-value"
    assert repo.session("other") is None
    with session_factory() as s:
        stored = s.execute(text("SELECT token_hash FROM console_sessions")).scalars().all()
    assert stored == [token_hash("cookie-value")]
    now[0] += timedelta(hours=8, seconds=1)
    assert repo.session("cookie-value") is None
    repo.create_session("again", "alice", "c2", timedelta(hours=8))
    repo.end_session("again")
    assert repo.session("again") is None


def test_the_limiter_refuses_after_five_failures_per_key() -> None:
    clock = [0.0]
    limiter = auth.LoginLimiter(clock=lambda: clock[0])
    keys = ["ip:1.2.3.4", "user:alice"]
    for _ in range(auth.MAX_FAILURES):
        assert limiter.retry_after(keys) == 0
        limiter.failed(keys)
    assert limiter.retry_after(keys) > 0
    assert limiter.retry_after(["ip:5.6.7.8", "user:bob"]) == 0  # others are not locked out
    assert limiter.retry_after(["ip:5.6.7.8", "user:alice"]) > 0  # the account is, from anywhere
    clock[0] += auth.FAILURE_WINDOW + 1
    assert limiter.retry_after(keys) == 0


def test_cli_adds_an_account_with_a_piped_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    run = lambda password, *extra: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "bot", "--database-url", url, "users", "add", "lin", "--role", "manager", *extra],
        cwd=ROOT, input=password + "\n", text=True, capture_output=True,
    )
    refused = run("short")
    assert refused.returncode == 2 and "at least 8" in refused.stderr
    added = run("manager password 1", "--display-name", "林主管")
    assert added.returncode == 0 and "Added console account lin (manager)" in added.stdout
    from bot.store.db import make_engine, session_factory

    repo = ConsoleRepository(session_factory(make_engine(url)))
    assert repo.user("lin").display_name == "林主管" and repo.user("lin").role == "manager"
    assert auth.check_password(repo, "lin", "manager password 1")
    assert run("x", "--role", "boss").returncode == 2  # argparse: unknown role


def test_transcript_tells_speakers_apart_in_time_order() -> None:
    t = NOW.replace(tzinfo=timezone.utc).timestamp()
    events = [
        {"event": "user", "text": "/ask_human", "timestamp": t - 60, "metadata": {"display": "转人工"}},
        {"event": "bot", "text": "已为您转接人工客服", "timestamp": t - 59},
        {"event": "user", "text": "在吗", "timestamp": t + 30},
    ]
    human = [ConsoleMessage(1, "c", "agent", "小王", "您好", NOW), ConsoleMessage(2, "c", "note", "小王", "备注", NOW)]
    lines = transcript(events, human)
    assert [(line["sender"], line["text"]) for line in lines][0] == ("user", "转人工")
    assert {line["sender"] for line in lines} == {"user", "bot", "agent", "note"}
    assert [line["at"] for line in lines] == sorted(line["at"] for line in lines)
