"""A recorded conversation exported as a conversation test that `rasa test core` replays."""

from __future__ import annotations

import subprocess
import sys

from ruamel.yaml import YAML

from bot.trainer.export import export
from tests.unit.trainer_conversations import parse, record, store
from tests.unit.trainer_project import ROOT


def test_export_is_a_conversation_test_rasa_accepts(tmp_path):
    path = tmp_path / "shop.db"
    record(store(path), "shopper-42", [
        ("user", "您好，請問在嗎", parse("greet", 0.93)),
        ("action", "utter_greet"),
        ("bot", "您好"),
        ("action", "action_listen"),
        ("user", "转人工 我叫王小明 订单1001000000000004", parse("ask_human", 0.88, entities=[
            {"entity": "order_id", "start": 12, "end": 28, "value": "1001000000000004"}])),
        ("action", "action_handoff"),
        ("bot", "已为您转接人工"),
        ("action", "action_listen"),
    ])
    file = export(f"sqlite:///{path}", "shopper-42", folder=tmp_path)
    assert file.name == "test_export_shopper-42.yml"
    written = file.read_text()
    assert "1001000000000004" not in written and "王小明" not in written
    story = YAML(typ="safe").load(written)["stories"][0]
    assert story["steps"] == [
        {"user": "您好，請問在嗎\n", "intent": "greet"},
        {"action": "utter_greet"},
        {"user": "转人工 我叫某某 订单[2024010100000001](order_id)\n", "intent": "ask_human"},
        {"action": "action_handoff"},
    ]
    done = subprocess.run([sys.executable, "-m", "bot.serve", "test", "core", "--model",
                           str(ROOT / "models" / "assistant.tar.gz"), "--stories", str(file),
                           "--fail-on-prediction-errors", "--out", str(tmp_path / "out"), "--no-plot"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "story:" not in (tmp_path / "out" / "failed_test_stories.yml").read_text()
