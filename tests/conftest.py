"""Shared fixtures: a fresh, migrated, seeded database per test.

SQLite (a temp file) always; PostgreSQL too when TEST_DATABASE_URL is set (`make test`
starts a real server and sets it). A test that takes ``repo`` runs once per database.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.store.db import make_engine, session_factory, upgrade_to_head
from bot.store.models import Base
from bot.store.repository import OrderRepository
from bot.store.seed import seed_demo

NOW = datetime(2026, 6, 1, 12, 0, 0)

_url_file = Path(__file__).resolve().parents[1] / "var" / "test_database_url"
if not os.environ.get("TEST_DATABASE_URL") and _url_file.exists():
    os.environ["TEST_DATABASE_URL"] = _url_file.read_text().strip()


def _reset_postgres(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    else:
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.skip("TEST_DATABASE_URL not set (make test starts PostgreSQL and sets it)")
        eng = make_engine(url)
        _reset_postgres(eng)
    upgrade_to_head(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine):
    factory = session_factory(engine)
    seed_demo(factory, NOW)
    return factory


@pytest.fixture
def repo(sessions):
    return OrderRepository(sessions, clock=lambda: NOW)
