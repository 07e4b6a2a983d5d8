"""Shared fixtures: a fresh, migrated, seeded database per test.

``engine`` is parametrised on SQLite (a temp file, always) and PostgreSQL (only when
TEST_DATABASE_URL is set; `make services` writes it to var/test_database_url, which is
read when the variable is unset). A test that takes ``repo`` runs once per database.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.store import db
from bot.store.repository import OrderRepository
from bot.store.seed import seed_demo

NOW = datetime(2026, 6, 1, 12, 0, 0)  # the tests' "now", naive UTC

_URL_FILE = Path(__file__).resolve().parents[1] / "var" / "test_database_url"
if not os.environ.get("TEST_DATABASE_URL") and _URL_FILE.exists():
    os.environ["TEST_DATABASE_URL"] = _URL_FILE.read_text().strip()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """In CI (CI=true, as .ci/run sets it) a skipped test fails: a missing PostgreSQL, browser
    or model is a broken CI, not a pass. Locally a skip stays a skip, with its reason."""
    outcome = yield
    report = outcome.get_result()
    if _in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure: {reason}"


def drop_everything(engine: Engine) -> None:
    """Drop every table there is (ours, alembic_version, leftovers), so each test migrates from zero."""
    found = MetaData()
    found.reflect(bind=engine)
    found.drop_all(bind=engine)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database: a temp SQLite file, or the PostgreSQL of TEST_DATABASE_URL."""
    if request.param == "sqlite":
        eng = db.make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    else:
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.skip("TEST_DATABASE_URL is not set (make services starts PostgreSQL and sets it)")
        eng = db.make_engine(url)
        drop_everything(eng)
    db.upgrade_to_head(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker:
    """Sessions on the migrated database, with the demo shop seeded as of NOW."""
    factory = db.session_factory(engine)
    seed_demo(factory, NOW)
    return factory


@pytest.fixture
def repo(session_factory: sessionmaker) -> OrderRepository:
    """The repository over the seeded database, its clock fixed at NOW."""
    return OrderRepository(session_factory, clock=lambda: NOW)
