"""Alembic environment. The URL follows ``bot.store.db.database_url``: an explicit
``sqlalchemy.url``, else DATABASE_URL, else the embedded SQLite file. ``upgrade_to_head``
may hand over an open connection instead (tests, ``python -m bot db ...``).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlalchemy.engine import Connection

from bot.store.db import database_url
from bot.store.models import Base

config = context.config
target_metadata = Base.metadata
# render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
OPTIONS = {"target_metadata": target_metadata, "render_as_batch": True, "compare_type": True}

if config.config_file_name is not None:  # the `alembic` command line, with alembic.ini
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or database_url()


def run_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade head --sql``)."""
    context.configure(url=_url(), literal_binds=True, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate over the connection we were given, or over a short-lived engine of our own."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    section = config.get_section(config.config_ini_section) or {}
    section["sqlalchemy.url"] = _url()
    engine = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool, future=True)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
