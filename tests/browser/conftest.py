"""Servers and a headless Chromium for the web widget's tests.

``shop_server``: the real action server and Rasa server (``credentials.yml``, so the widget
channel is the one ``make run`` serves; the only other web origin allowed is
``OTHER_SITE``, through WIDGET_ALLOWED_ORIGINS as a shop would configure it),
each on a free port, over their own seeded database, as tests/integration/conftest.py does.
``echo_server``: the widget channel alone in front of a scripted stand-in for the bot
(echo_app.py), for the protocol tests that need no trained model. Both are started once
per package and stopped after its last test, so they never run beside the integration
tests' servers.

Chromium is the system one (``apt-get install chromium fonts-wqy-microhei``; or the path in
``CHROMIUM``); without one the browser tests are skipped, as PostgreSQL tests are without
a server.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from tests.integration.conftest import MODEL, _free_port, serve
from tests.integration.trainer_setup import models_folder, small_project

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCREENSHOTS = ROOT / "tests" / "output" / "screenshots"
AGENT_TOKEN = "browser-tests-agent-token"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Servers:
    """Where the widget is served, and what it stored."""

    base: str
    work: Path
    logs: List[Path] = field(default_factory=list)

    @property
    def upload_dir(self) -> Path:
        return self.work / "uploads"

    def rows(self, sql: str, *params: Any) -> List[tuple]:
        with sqlite3.connect(self.work / "shop.db") as db:
            return db.execute(sql, params).fetchall()

    def request(
        self,
        path: str,
        body: Optional[bytes] = None,
        headers: Optional[Dict[str, str]] = None,
        method: Optional[str] = None,
    ) -> Tuple[int, Dict[str, str], bytes]:
        """(status, headers with lower-case names, body); error statuses are returned, not raised."""
        req = urllib.request.Request(self.base + path, data=body, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()

    def post_json(self, path: str, data: Any, token: Optional[str] = None) -> Tuple[int, Dict]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status, _, body = self.request(path, json.dumps(data, ensure_ascii=False).encode(), headers)
        return status, json.loads(body)

    def agent_says(self, conversation_id: str, text: str, agent_name: str = "小王") -> int:
        status, body = self.post_json(
            "/widget/agent_message",
            {"conversation_id": conversation_id, "text": text, "agent_name": agent_name},
            AGENT_TOKEN,
        )
        assert status == 201, body
        return body["seq"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# the one other site allowed to embed the widget (tests/browser/test_widget.py serves a page there)
# (kept in the environment: pytest may import this module twice, and both must agree)
OTHER_SITE_PORT = int(os.environ.setdefault("TEST_OTHER_SITE_PORT", str(_port())))
OTHER_SITE = f"http://127.0.0.1:{OTHER_SITE_PORT}"


def _environment(work: Path, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """A seeded database of our own, uploads in the work folder, the agent endpoint open."""
    env = dict(
        os.environ,
        **(extra or {}),
        WIDGET_ALLOWED_ORIGINS=OTHER_SITE,
        DATABASE_URL=f"sqlite:///{work / 'shop.db'}",
        WIDGET_UPLOAD_DIR=str(work / "uploads"),
        WIDGET_AGENT_TOKEN=AGENT_TOKEN,
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    subprocess.run(
        [sys.executable, "-m", "bot", "db", "seed"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )
    return env


def _serve(work: Path, commands: List[Tuple[str, List[str], str]], extra: Optional[Dict[str, str]] = None):
    """The integration tests' server runner, over this package's environment."""
    return serve(work, _environment(work, extra), commands)


@pytest.fixture(scope="package")
def shop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if not MODEL.exists():
        pytest.fail("no trained model: run `make model` first")
    work = tmp_path_factory.mktemp("shop")
    actions_port, rasa_port = _free_port(), _free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        (ROOT / "endpoints.yml").read_text().replace(":5055/", f":{actions_port}/")
    )
    commands = [
        (
            "actions",
            [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
            f"http://localhost:{actions_port}/health",
        ),
        (
            "rasa",
            [
                str(BIN / "python"),
                "-m",
                "bot.serve",
                "run",
                "--model",
                str(MODEL),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(ROOT / "credentials.yml"),
                "--port",
                str(rasa_port),
            ],
            f"http://localhost:{rasa_port}/",
        ),
    ]
    # the trainer's pages write corrections and candidates here, never into this checkout
    trainer = {"TRAINER_PROJECT": str(small_project(work / "trainer-project")),
               "TRAINER_MODELS": str(models_folder(work / "trainer-models"))}
    with _serve(work, commands, trainer) as logs:
        yield Servers(f"http://localhost:{rasa_port}", work, logs)


@pytest.fixture(scope="package")
def echo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    work = tmp_path_factory.mktemp("echo")
    port = _free_port()
    command = [sys.executable, str(Path(__file__).with_name("echo_app.py")), str(port)]
    with _serve(work, [("echo", command, f"http://127.0.0.1:{port}/widget/")]) as logs:
        yield Servers(f"http://127.0.0.1:{port}", work, logs)


def _chromium() -> Optional[str]:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and shutil.which(candidate):
            return candidate
    return None


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium: apt-get install chromium fonts-wqy-microhei (or set CHROMIUM=/path)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def photo(fmt: str = "PNG", size: Tuple[int, int] = (96, 72)) -> bytes:
    """A small real picture (a beige jumper swatch with a darker band), encoded as ``fmt``."""
    import io

    from PIL import Image, ImageDraw

    picture = Image.new("RGB", size, (222, 205, 180))
    ImageDraw.Draw(picture).rectangle([0, size[1] // 3, size[0], 2 * size[1] // 3], fill=(160, 120, 90))
    buffer = io.BytesIO()
    picture.save(buffer, fmt)
    return buffer.getvalue()


def multipart(fields: Dict[str, str], filename: str, content: bytes, content_type: str) -> Tuple[bytes, str]:
    """A multipart/form-data body with ``fields`` and one file in field ``photo``."""
    boundary = "----widgettest7d93"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
