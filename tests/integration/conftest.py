"""A real Rasa server and action server, on their own ports and their own seeded database.

Started once per test session (the model takes a while to load), shared by every test
that talks to the bot through the REST channel, and stopped at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "assistant.tar.gz"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"server not up after {timeout} s:\n{log.read_text()[-3000:]}")


class Bot:
    """Talks to the running bot through the REST channel, as outside checks do."""

    def __init__(self, base: str) -> None:
        self.base = base

    def post_raw(self, body: bytes, content_type: str = "application/json") -> tuple[int, str]:
        request = urllib.request.Request(
            self.base + "/webhooks/rest/webhook", data=body, headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def say(self, sender: str, message: str) -> List[Dict]:
        status, body = self.post_raw(json.dumps({"sender": sender, "message": message}).encode())
        assert status == 200, body
        return json.loads(body)

    def texts(self, sender: str, message: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(sender, message))


@contextlib.contextmanager
def serve(work: Path, env: Dict[str, str], commands: List[Tuple[str, List[str], str]]) -> Iterator[List[Path]]:
    """Start (name, command, health url) in order, wait for each, stop them all at the end."""
    procs, logs = [], []
    try:
        for name, command, health in commands:
            log = work / f"{name}.log"
            logs.append(log)
            procs.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT))
            _wait_until_up(health, procs[-1], log)
        yield logs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def bot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    if not MODEL.exists():
        pytest.fail("no trained model: run `make model` first")
    work = tmp_path_factory.mktemp("bot")
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{work / 'shop.db'}",
               SQLALCHEMY_SILENCE_UBER_WARNING="1", TF_CPP_MIN_LOG_LEVEL="2",
               FOLLOWUP_INTERVAL_SECONDS="1",  # the R14 runner looks for due promises every second
               SHOP_IDENTITY_SECRET=secrets.token_hex(16))  # made per run, never stored
    subprocess.run([sys.executable, "-m", "bot", "db", "seed"], cwd=ROOT, env=env, check=True)
    actions_port, rasa_port = _free_port(), _free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        (ROOT / "endpoints.yml").read_text().replace(":5055/", f":{actions_port}/")
    )
    commands = [
        ("actions", [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
         f"http://localhost:{actions_port}/health"),
        ("rasa", [str(BIN / "python"), "-m", "bot.serve", "run", "--model", str(MODEL), "--endpoints", str(endpoints),
                  "--credentials", str(ROOT / "credentials.yml"), "--port", str(rasa_port)],
         f"http://localhost:{rasa_port}/"),
    ]
    with serve(work, env, commands) as logs:
        bot = Bot(f"http://localhost:{rasa_port}")
        bot.logs = logs
        bot.database_url, bot.identity_secret = env["DATABASE_URL"], env["SHOP_IDENTITY_SECRET"]
        yield bot


@pytest.fixture
def sender() -> str:
    """A fresh conversation id per test."""
    return "test-" + uuid.uuid4().hex[:12]
