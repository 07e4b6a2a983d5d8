"""Retrain, evaluate and gate on a real copy of the data: a candidate that lost an intent's
examples is trained in the background, compared with the served model, and the gate closes."""

from __future__ import annotations

import asyncio
import re
import shutil
import time

import pytest

from bot.trainer import models, training
from tests.unit.trainer_project import ROOT, make_project

BROKEN_STORY = """version: "3.1"
stories:
  - story: a test both models fail
    steps:
      - user: |
          你好
        intent: greet
      - action: utter_goodbye
"""


def test_gate_on_f1_drops_and_newly_failing_tests():
    evaluation = {"sets": [{"name": "heldout", "per_intent_f1": {"a": 0.90, "b": 0.70, "c": 1.0},
                            "active_per_intent_f1": {"a": 0.915, "b": 0.75, "c": 0.5}}],
                  "conversations": {"newly_failing": []}}
    verdict = models.gate(evaluation)
    assert not verdict["passed"] and verdict["reasons"] == ["团队留出集：意图 b 的 F1 从 0.750 降到 0.700"]
    evaluation["sets"][0]["per_intent_f1"]["b"] = 0.73
    assert models.gate(evaluation) == {"passed": True, "reasons": []}
    evaluation["conversations"]["newly_failing"] = ["ask for a human at once"]
    assert models.gate(evaluation)["reasons"] == ["对话测试“ask for a human at once”原来通过，现在失败"]


@pytest.fixture
def project(tmp_path):
    project = make_project(tmp_path / "project", git=False)
    (project / "tests" / "nlu").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "nlu" / "heldout.yml", project / "tests" / "nlu")
    shutil.copytree(ROOT / "tests" / "conversations", project / "tests" / "conversations")
    (project / "tests" / "conversations" / "test_broken.yml").write_text(BROKEN_STORY)
    # the candidate forgets what asking for a human sounds like (in every file that teaches it)
    for path in (project / "data" / "nlu").glob("*.yml"):
        path.write_text(re.sub(r"  - intent: ask_human\n    examples: \|\n(      - .*\n)+", "", path.read_text()))
        assert "intent: ask_human" not in path.read_text()
    return project


def test_background_training_evaluation_and_gate(project, tmp_path):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    shutil.copy(ROOT / "models" / "assistant.tar.gz", models_dir / "assistant.tar.gz")
    run_id = training.start(project, models_dir, trainer="Li Wei")
    seen = []
    deadline = time.time() + 600
    while time.time() < deadline:
        state = training.status(run_id, models_dir)
        seen.append((state["state"], state["progress"]))
        if state["state"] in ("done", "failed"):
            break
        time.sleep(1)
    assert state["state"] == "done", state
    states = [s for s, _ in seen]
    assert "training" in states and "evaluating" in states or states[0] in ("queued", "training")
    progress = [p for _, p in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0
    evaluation = state["evaluation"]
    heldout = evaluation["sets"][0]
    assert heldout["name"] == "heldout" and heldout["messages"] > 100
    assert heldout["per_intent_f1"]["ask_human"] == 0.0 and heldout["active_per_intent_f1"]["ask_human"] > 0.8
    assert heldout["macro_f1"] < heldout["active_macro_f1"]
    assert any(c["gold"] == "ask_human" and c["after"] != "ask_human" for c in heldout["changed"])
    assert evaluation["missing"] == [str(project / "tests" / "nlu" / "real_test.yml")]
    conversations = evaluation["conversations"]
    assert "a test both models fail" in conversations["failed_before"]
    assert "a test both models fail" not in conversations["newly_failing"]
    assert "ask for a human at once (with NLU)" in conversations["newly_failing"]
    assert "ask for a human at once" not in conversations["failed_after"]  # the dialogue alone still works
    assert not state["gate"]["passed"]
    assert any("ask_human" in reason for reason in state["gate"]["reasons"])
    listed = models.list_models(models_dir)
    assert [(m["name"], m["newest"], m["active"]) for m in listed] == [(run_id, True, False), ("assistant", False, True)]

    class App:  # the part of a Sanic app that activate uses: ctx.agent
        class ctx:  # noqa: N801
            from rasa.core.agent import Agent
            agent = Agent.load(str(models_dir / "assistant.tar.gz"))

    with pytest.raises(models.GateClosed):
        asyncio.run(models.promote(App, run_id, actor="Li Wei", models=models_dir))
    switched = asyncio.run(models.promote(App, run_id, actor="Li Wei", models=models_dir,
                                          override_by="Boss Wang", override_reason="seasonal test"))
    assert switched["active"] == run_id
    assert asyncio.run(models.parse(App, "转人工"))["intent"]["name"] != "ask_human"
    override = models.registry(models_dir)["overrides"][0]
    assert (override["by"], override["reason"], override["model"]) == ("Boss Wang", "seasonal test", run_id)
    restored = asyncio.run(models.restore(App, actor="Li Wei", models=models_dir))
    assert restored["previous"] == run_id
    assert asyncio.run(models.parse(App, "转人工"))["intent"]["name"] == "ask_human"
