"""The order store: SQLAlchemy models, Alembic migrations, the one repository, demo data.

Actions reach data only through ``OrderRepository``; engines come from ``make_engine``
(nothing connects at import time).
"""

from bot.store.db import make_engine, session_factory, upgrade_to_head
from bot.store.repository import OrderRepository

__all__ = ["OrderRepository", "make_engine", "session_factory", "upgrade_to_head"]
