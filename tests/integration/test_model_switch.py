"""Switching the running server's model under a stream of requests: none may fail.

A real Rasa server (bot.serve run) and action server; four shoppers chat without pause through
the REST channel while the model is switched to a candidate and restored again. The server keeps
its conversations in Rasa's SQLTrackerStore, so the same run checks the trainer's inbox and the
export of a conversation the bot really had.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from bot.trainer.export import export
from bot.trainer.inbox import Inbox
from tests.integration.conftest import BIN, MODEL, ROOT, _free_port, serve


def _post(url: str, body: dict, timeout: float = 60) -> tuple:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return answer.status, json.loads(answer.read().decode())


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read().decode())


def test_switch_and_restore_under_load_drop_nothing(tmp_path: Path):
    models_dir = tmp_path / "models"
    (models_dir / "candidates").mkdir(parents=True)
    shutil.copy(MODEL, models_dir / "assistant.tar.gz")
    shutil.copy(MODEL, models_dir / "candidates" / "cand-1.tar.gz")
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'shop.db'}", SQLALCHEMY_SILENCE_UBER_WARNING="1",
               TF_CPP_MIN_LOG_LEVEL="2", RASA_TELEMETRY_ENABLED="false")
    subprocess.run([sys.executable, "-m", "bot", "db", "seed"], cwd=ROOT, env=env, check=True)
    actions_port, rasa_port = _free_port(), _free_port()
    endpoints = tmp_path / "endpoints.yml"
    tracker_db = tmp_path / "shop.db"  # the served tracker store keeps conversations in the shop's database
    endpoints.write_text((ROOT / "endpoints.yml").read_text().replace(":5055/", f":{actions_port}/"))
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(f"rest:\ntests.integration.trainer_channel.TrainerTestInput:\n  models: {models_dir}\n")
    base = f"http://localhost:{rasa_port}"
    commands = [
        ("actions", [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
         f"http://localhost:{actions_port}/health"),
        ("rasa", [str(BIN / "python"), "-m", "bot.serve", "run", "--model", str(models_dir / "assistant.tar.gz"),
                  "--endpoints", str(endpoints), "--credentials", str(credentials), "--port", str(rasa_port)],
         f"{base}/"),
    ]
    with serve(tmp_path, env, commands):
        trainer = f"{base}/webhooks/trainer_test"
        assert _get(f"{trainer}/status")["model"] == str(models_dir / "assistant.tar.gz")
        stop, failures, answered, slowest = threading.Event(), [], [0], [0.0]

        def shopper(n: int) -> None:
            turn = 0
            while not stop.is_set():
                message = ["你好", "谢谢", "我要退货", "拜拜"][turn % 4]
                started = time.perf_counter()
                try:
                    status, replies = _post(f"{base}/webhooks/rest/webhook", {"sender": f"s{n}", "message": message})
                    if status != 200 or not replies:
                        failures.append((message, status, replies))
                except Exception as error:  # noqa: BLE001 - every failure is counted
                    failures.append((message, repr(error)))
                answered[0] += 1
                slowest[0] = max(slowest[0], time.perf_counter() - started)
                turn += 1

        threads = [threading.Thread(target=shopper, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(2)
        status, switched = _post(f"{trainer}/activate", {"name": "cand-1"})
        assert status == 200 and switched["active"] == "cand-1"
        assert switched["previous"].startswith("served-")
        assert _get(f"{trainer}/status")["model"] == str(models_dir / "candidates" / "cand-1.tar.gz")
        time.sleep(2)
        status, reading = _post(f"{trainer}/parse", {"text": "我要退货"})
        assert reading["intent"]["name"] == "request_return" and 0 < reading["intent"]["confidence"] <= 1
        status, restored = _post(f"{trainer}/restore", {})
        assert restored["active"] == switched["previous"] and restored["previous"] == "cand-1"
        assert _get(f"{trainer}/status")["model"].endswith(f"{switched['previous']}.tar.gz")
        time.sleep(2)
        stop.set()
        for thread in threads:
            thread.join()
        # a real conversation for the trainer: a doubtful message, then a request for a human
        _post(f"{base}/webhooks/rest/webhook", {"sender": "review-1", "message": "你好"})
        _post(f"{base}/webhooks/rest/webhook", {"sender": "review-1", "message": "那个那个那个"})
        _post(f"{base}/webhooks/rest/webhook", {"sender": "review-1", "message": "转人工"})
    assert failures == []
    assert answered[0] > 20
    assert slowest[0] < 10
    registry = json.loads((models_dir / "registry.json").read_text())
    assert [h["active"] for h in registry["history"]] == ["cand-1", switched["previous"]]

    inbox = Inbox(f"sqlite:///{tracker_db}", env["DATABASE_URL"])
    items = {i["text"]: i for i in inbox.items() if i["conversation_id"] == "review-1"}
    assert "low_confidence" in items["那个那个那个"]["reasons"]
    assert "before_handoff" in items["转人工"]["reasons"]
    assert [t["text"] for t in items["转人工"]["context"] if t["speaker"] == "user"] == ["你好", "那个那个那个", "转人工"]
    story = export(f"sqlite:///{tracker_db}", "review-1", folder=tmp_path)
    done = subprocess.run([sys.executable, "-m", "bot.serve", "test", "core", "--model", str(MODEL),
                           "--stories", str(story), "--out", str(tmp_path / "out"), "--no-plot"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "story:" not in (tmp_path / "out" / "failed_test_stories.yml").read_text(), story.read_text()
