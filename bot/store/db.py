"""Engines and sessions, built from settings on demand (nothing connects at import).

SQLite file ``var/shop.db`` by default (the embedded database ``make run`` creates);
any SQLAlchemy URL through ``DATABASE_URL`` (e.g. PostgreSQL). The schema is managed
by Alembic migrations so a shop's data survives upgrades.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Optional, Union

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

ROOT = Path(__file__).resolve().parents[2]

# SQLite has no decimal type; our amounts have two decimals and round-trip exactly.
warnings.filterwarnings("ignore", message="Dialect sqlite\\+pysqlite does \\*not\\* support Decimal")
DEFAULT_SQLITE = ROOT / "var" / "shop.db"


def database_url(url: Optional[str] = None) -> str:
    """The URL to use: the argument, else DATABASE_URL, else the embedded SQLite file."""
    if url:
        return url
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    DEFAULT_SQLITE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE}"


def make_engine(url: Optional[str] = None) -> Engine:
    """An engine for ``url`` (see database_url); SQLite gets foreign keys and a busy timeout."""
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, future=True, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


def upgrade_to_head(engine_or_url: Union[Engine, str, None] = None) -> None:
    """Run the Alembic migrations programmatically, from any working directory."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    if isinstance(engine_or_url, Engine):
        with engine_or_url.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    else:
        config.set_main_option("sqlalchemy.url", database_url(engine_or_url).replace("%", "%%"))
        command.upgrade(config, "head")
