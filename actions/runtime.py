"""What the actions need from the outside world, built once at first use.

Nothing connects at import: the repository is built from settings (DATABASE_URL, or
the embedded SQLite file) the first time an action needs it. Tests install their own
with ``configure(...)``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Optional

from bot.settings import Settings, load_settings
from bot.store.db import make_engine, session_factory
from bot.store.repository import OrderRepository


@dataclass
class Runtime:
    repo: OrderRepository
    settings: Settings
    clock: Callable[[], datetime] = datetime.utcnow
    rng: random.Random = field(default_factory=random.Random)


_runtime: Optional[Runtime] = None


def configure(runtime: Optional[Runtime]) -> None:
    """Install a runtime (tests), or None to rebuild from the environment on next use."""
    global _runtime
    _runtime = runtime


def get() -> Runtime:
    """The runtime, built from the environment the first time it is needed."""
    global _runtime
    if _runtime is None:
        engine = make_engine()
        _runtime = Runtime(repo=OrderRepository(session_factory(engine)), settings=load_settings())
    return _runtime
