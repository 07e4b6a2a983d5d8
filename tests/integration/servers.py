"""A Rasa server and an action server that a test may kill (SIGKILL) and start again.

Unlike the session-wide ``bot_server`` fixture, each ``Servers`` belongs to one test, so
a test can take a server away mid-conversation and bring it back on the same port and the
same database, the way a crash and a supervisor's restart would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

from tests.integration.conftest import MODEL, ROOT, Bot, _free_port, _wait_until_up

BIN = Path(sys.executable).parent


class Servers:
    """Both servers of one test, on their own ports, logs and database."""

    def __init__(
        self, work: Path, database_url: str, extra_env: Optional[Dict[str, str]] = None, debug: bool = False
    ) -> None:
        self.work, self.debug = work, debug
        self.env = dict(
            os.environ,
            DATABASE_URL=database_url,
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            TF_CPP_MIN_LOG_LEVEL="2",
            RASA_TELEMETRY_ENABLED="false",
            **(extra_env or {}),
        )
        self.actions_port, self.rasa_port = _free_port(), _free_port()
        self.endpoints = work / "endpoints.yml"
        self.endpoints.write_text(
            (ROOT / "endpoints.yml").read_text().replace(":5055/", f":{self.actions_port}/")
        )
        self.procs: Dict[str, subprocess.Popen] = {}
        self.logs: List[Path] = []
        self.bot = Bot(f"http://127.0.0.1:{self.rasa_port}")
        self.bot.logs = self.logs

    def seed(self) -> None:
        subprocess.run([sys.executable, "-m", "bot", "db", "seed"], cwd=ROOT, env=self.env, check=True)

    def _command(self, name: str) -> List[str]:
        return self._base_command(name) + (["--debug"] if self.debug else [])

    def _base_command(self, name: str) -> List[str]:
        if name == "actions":
            return [
                str(BIN / "rasa"),
                "run",
                "actions",
                "--actions",
                "actions",
                "--port",
                str(self.actions_port),
            ]
        return [
            str(BIN / "python"), "-m", "bot.serve", "run", "--model", str(MODEL),
            "--endpoints", str(self.endpoints), "--credentials", str(ROOT / "credentials.yml"),
            "--port", str(self.rasa_port),
        ]  # fmt: skip

    def _health(self, name: str) -> str:
        port = self.actions_port if name == "actions" else self.rasa_port
        return f"http://127.0.0.1:{port}/" + ("health" if name == "actions" else "")

    def start(self, name: str) -> None:
        log = self.work / f"{name}-{len(self.logs)}.log"
        self.logs.append(log)
        proc = subprocess.Popen(
            self._command(name), cwd=ROOT, env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT
        )
        self.procs[name] = proc
        _wait_until_up(self._health(name), proc, log, timeout=180)

    def start_all(self) -> "Servers":
        self.start("actions")
        self.start("rasa")
        return self

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown handlers run, nothing is flushed, as in a crash."""
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=20)
        self._wait_down(name)

    def _wait_down(self, name: str) -> None:
        for _ in range(40):
            try:
                urllib.request.urlopen(self._health(name), timeout=1)
            except OSError:
                return
            time.sleep(0.25)
        raise AssertionError(f"{name} still answers after SIGKILL")

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()

    def log_text(self) -> str:
        return "\n".join(log.read_text(errors="replace") for log in self.logs if log.exists())
