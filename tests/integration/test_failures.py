"""Honest failures: the database stopped, slow or restarted, the action server gone.

A PostgreSQL server of the test's own (initdb in a temp folder, its own port), so it can be
stopped like a crash (``pg_ctl stop -m immediate``) and started again without touching the
PostgreSQL other tests share. Both servers keep the conversation in it. While it is down the
shopper gets one apology with the offer of a human, no stack trace, nothing stored; when it
is back the conversation continues where it was, without restarting anything.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from bot.resilience import APOLOGY
from tests.integration.conftest import _free_port
from tests.integration.servers import Servers

pytestmark = pytest.mark.server


class Postgres:
    """A throw-away PostgreSQL cluster run as the ``postgres`` user, trust auth on loopback."""

    def __init__(self, folder: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found or os.geteuid() != 0 or shutil.which("runuser") is None:
            pytest.skip("needs Debian's postgresql package and root (make services installs it)")
        self.bin = Path(found[-1]).parent
        self.data, self.port = folder / "pgdata", _free_port()
        folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, "postgres")
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8"
        )
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.data / "log"),
            "start",
        )

    def stop(self) -> None:
        """Like a crash: no checkpoint, every connection cut."""
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[Postgres]:
    folder = Path("/tmp") / f"shop-pg-{uuid.uuid4().hex[:8]}"  # postgres must be able to reach it
    server = Postgres(folder)
    server.start()
    yield server
    try:
        server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def servers(tmp_path: Path, postgres: Postgres) -> Iterator[Servers]:
    # a turn waits out a database outage for 2 s here, then apologises (the patient case below)
    pair = Servers(tmp_path, postgres.url, {"ACTION_TIMEOUT": "3", "DATABASE_OUTAGE_WAIT": "2"})
    pair.seed()
    pair.start_all()
    yield pair
    pair.stop()


@pytest.fixture
def patient_servers(tmp_path: Path, postgres: Postgres) -> Iterator[Servers]:
    pair = Servers(tmp_path, postgres.url, {"DATABASE_OUTAGE_WAIT": "60"})
    pair.seed()
    pair.start_all()
    yield pair
    pair.stop()


def _honest(replies: list) -> None:
    assert [r.get("text") for r in replies] == [APOLOGY], replies
    assert replies[0]["buttons"] == [{"title": "转人工客服", "payload": "/ask_human"}]
    assert "Traceback" not in json.dumps(replies)


def _stored_user_turns(url: str, sender: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        query = sa.text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'")
        count = connection.execute(query, {"s": sender}).scalar()
    engine.dispose()
    return count


def test_database_down_then_back_apologises_then_continues(servers: Servers, postgres: Postgres):
    bot, shopper = servers.bot, "test-" + uuid.uuid4().hex[:12]
    bot.say(shopper, "我的快递到哪了")
    bot.say(shopper, "1001000000000002")
    assert "运动鞋" in bot.texts(shopper, "0002")
    stored = _stored_user_turns(postgres.url, shopper)

    postgres.stop()
    _honest(bot.say(shopper, "物流三天没动了"))
    _honest(bot.say(shopper + "-new", "你好"))  # a new conversation too
    postgres.start()

    assert _stored_user_turns(postgres.url, shopper) == stored, "the failed turn left nothing behind"
    after = bot.texts(shopper, "物流三天没动了")
    assert after != APOLOGY and "订单号" not in after and "后四位" not in after, after


def test_slow_database_times_out_into_an_apology_then_recovers(servers: Servers, postgres: Postgres):
    bot, shopper = servers.bot, "test-" + uuid.uuid4().hex[:12]
    bot.say(shopper, "我的快递到哪了")
    bot.say(shopper, "1001000000000002")
    bot.say(shopper, "0002")
    engine = sa.create_engine(postgres.url)
    with engine.connect() as blocker:  # holds every order read until released
        transaction = blocker.begin()
        blocker.execute(sa.text("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE"))
        _honest(bot.say(shopper, "到哪了"))
        transaction.rollback()
    engine.dispose()
    assert "运动鞋" in bot.texts(shopper, "到哪了")


def test_an_action_server_that_is_down_gets_an_apology_and_comes_back(servers: Servers):
    bot, shopper = servers.bot, "test-" + uuid.uuid4().hex[:12]
    servers.kill("actions")
    _honest(bot.say(shopper, "我要退货"))
    servers.start("actions")
    assert "订单号" in bot.texts(shopper, "我要退货")


def test_messages_sent_while_the_database_is_down_are_answered_in_order_when_it_is_back(
    patient_servers: Servers, postgres: Postgres
):
    """Issue #15: no message lost and no tracker reset; the backlog is answered in order."""
    import concurrent.futures

    bot, shopper = patient_servers.bot, "test-" + uuid.uuid4().hex[:12]
    bot.say(shopper, "我的快递到哪了")
    bot.say(shopper, "1001000000000002")
    assert "运动鞋" in bot.texts(shopper, "0002")

    postgres.stop()
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        waiting = []
        for text in ("物流三天没动了", "谢谢"):
            waiting.append(pool.submit(bot.texts, shopper, text))
            time.sleep(0.5)  # the second arrives while the first waits
        time.sleep(6)
        assert not any(w.done() for w in waiting), "a turn gave up although the outage is within the wait"
        postgres.start()
        answers = [w.result(timeout=90) for w in waiting]

    assert all(a and a != APOLOGY for a in answers), answers
    assert "订单号" not in answers[0] and "后四位" not in answers[0], "the conversation was reset"
    engine = sa.create_engine(postgres.url)
    with engine.connect() as connection:
        texts = connection.execute(sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                                           "ORDER BY id"), {"s": shopper}).scalars().all()
    engine.dispose()
    assert [json.loads(t)["text"] for t in texts][-2:] == ["物流三天没动了", "谢谢"]
