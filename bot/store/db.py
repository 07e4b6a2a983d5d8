"""Engines, sessions and migrations, built from settings on demand (nothing connects at import).

The embedded default is chosen here, once: the SQLite file ``var/shop.db`` under the
project root, unless a URL is passed or ``DATABASE_URL`` is set (e.g. PostgreSQL). The
schema belongs to Alembic, so a shop's data survives upgrades.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Optional, Union

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool, StaticPool

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE = ROOT / "var" / "shop.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# SQLite has no decimal type; our amounts have two decimals and round-trip exactly.
warnings.filterwarnings("ignore", message=r"Dialect sqlite\+pysqlite does \*not\* support Decimal")


def database_url(url: Optional[str] = None) -> str:
    """The URL to use: the argument, else ``DATABASE_URL``, else the embedded SQLite file.

    Creates ``var/`` only when the embedded default is chosen, so a configured server
    never leaves stray folders behind.
    """
    if url:
        return url
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    DEFAULT_SQLITE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE}"


def make_engine(url: Optional[str] = None) -> Engine:
    """A 2.0-style engine for ``url`` (see ``database_url``); connects lazily, on first use."""
    url = database_url(url)
    if not url.startswith("sqlite"):
        return create_engine(url, future=True, pool_pre_ping=True)
    if _in_memory(url):
        # One shared connection, or every session would see its own empty database.
        engine = create_engine(
            url, future=True, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        # SQLAlchemy 1.4 opens a new SQLite connection per session for a file database
        # (NullPool), which re-runs the pragmas below each time: profiled at a third of the
        # action server's time per call. A small pool keeps connections open.
        engine = create_engine(
            url,
            future=True,
            poolclass=QueuePool,
            pool_size=5,
            max_overflow=10,
            connect_args={"timeout": 30, "check_same_thread": False},
        )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _in_memory(url: str) -> bool:
    return make_url(url).database in (None, "", ":memory:")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys are off by default in SQLite; WAL lets the action server read while it writes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker:
    """Sessions for the repository; objects stay readable after commit so they can be mapped out."""
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


def alembic_config(url: Optional[str] = None) -> Any:
    """An Alembic Config built in code, so migrations run from any working directory."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(engine_or_url: Union[Engine, str, None] = None) -> None:
    """Migrate the database to the newest schema (idempotent: a no-op when already there)."""
    from alembic import command

    if isinstance(engine_or_url, Engine):
        config = alembic_config()
        with engine_or_url.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    else:
        command.upgrade(alembic_config(database_url(engine_or_url)), "head")
