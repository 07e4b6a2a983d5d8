"""Loading a model for a switch leaves the event loop free; names cannot leave the candidates folder."""

from __future__ import annotations

import asyncio
import json
import shutil
import tarfile
import tempfile
import time
from pathlib import Path

import pytest
from rasa.core.agent import Agent

from bot.trainer import models
from tests.unit.trainer_project import ROOT

MODEL = ROOT / "models" / "assistant.tar.gz"


class App:
    """The part of a Sanic app the switch uses."""

    def __init__(self, agent):
        self.ctx = type("Ctx", (), {"agent": agent})()


@pytest.fixture
def models_dir(tmp_path):
    (tmp_path / "candidates").mkdir()
    shutil.copy(MODEL, tmp_path / "assistant.tar.gz")
    shutil.copy(MODEL, tmp_path / "candidates" / "cand-1.tar.gz")
    return tmp_path


def relabel(source, target, new_id):
    """The same weights under another model id: what the replicas see after a retrain."""
    with tempfile.TemporaryDirectory() as folder:
        with tarfile.open(source) as archive:
            archive.extractall(folder)
        metadata = json.loads((Path(folder) / "metadata.json").read_text())
        metadata["model_id"] = new_id
        (Path(folder) / "metadata.json").write_text(json.dumps(metadata))
        with tarfile.open(target, "w:gz") as archive:
            for child in Path(folder).iterdir():
                archive.add(child, arcname=child.name)
    assert models.model_id(target) == new_id


def test_the_event_loop_keeps_running_while_the_new_model_loads():
    agent = Agent.load(str(MODEL))

    async def main():
        ticks = []

        async def ticker():
            while True:
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.005)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.02)
        started = time.perf_counter()
        processor = await models.load_processor(agent, MODEL)
        ended = time.perf_counter()
        task.cancel()
        during = [t for t in ticks if started < t < ended]
        return processor, started, ended, during

    processor, started, ended, during = asyncio.run(main())
    took = ended - started
    assert processor is not agent.processor and processor.model_path == MODEL
    # A loop blocked by the load would not tick in between: one gap as long as the whole load.
    # A free loop keeps ticking, though a busy machine (the load holds the GIL in its thread)
    # spaces the ticks unevenly, so only the longest silence is compared with the load's length.
    gaps = [b - a for a, b in zip([started, *during], [*during, ended])]
    assert len(during) >= 3 and max(gaps) < took / 2, (took, len(during), max(gaps))


def test_switch_list_and_restore(models_dir):
    app = App(Agent.load(str(models_dir / "assistant.tar.gz")))
    with pytest.raises(KeyError):
        asyncio.run(models.restore(app, "Li Wei", models_dir))
    assert [(m["name"], m["active"]) for m in models.list_models(models_dir)] == [("cand-1", False), ("assistant", True)]
    switched = asyncio.run(models.activate(app, models.find("cand-1", models_dir), models_dir, actor="Li Wei"))
    assert app.ctx.agent.processor.model_path == models_dir / "candidates" / "cand-1.tar.gz"
    assert (models_dir / "assistant.tar.gz").read_bytes() == MODEL.read_bytes()
    listed = {m["name"]: m for m in models.list_models(models_dir)}
    assert listed["cand-1"]["active"] and listed[switched["previous"]]["previous"]
    assert asyncio.run(models.parse(app, "我要退货"))["intent"]["name"] == "request_return"
    asyncio.run(models.restore(app, "Li Wei", models_dir))
    assert app.ctx.agent.processor.model_path.name == f"{switched['previous']}.tar.gz"
    history = json.loads((models_dir / "registry.json").read_text())["history"]
    assert [(h["active"], h["by"]) for h in history] == [("cand-1", "Li Wei"), (switched["previous"], "Li Wei")]


def test_names_cannot_leave_the_candidates_folder(models_dir):
    for name in ("../assistant", "/etc/passwd", ".hidden", "missing"):
        with pytest.raises(KeyError):
            models.find(name, models_dir)


def test_an_unevaluated_candidate_needs_an_override(models_dir):
    app = App(Agent.load(str(models_dir / "assistant.tar.gz")))
    with pytest.raises(models.GateClosed) as closed:
        asyncio.run(models.promote(app, "cand-1", "Li Wei", models_dir))
    assert closed.value.reasons == [models.NOT_EVALUATED]
    with pytest.raises(models.GateClosed):
        asyncio.run(models.promote(app, "cand-1", "Li Wei", models_dir, override_by="Boss Wang", override_reason=" "))
    asyncio.run(models.promote(app, "cand-1", "Li Wei", models_dir, override_by="Boss Wang", override_reason="hotfix"))
    entry = models.registry(models_dir)["history"][-1]
    assert entry["override"] == {"by": "Boss Wang", "reason": "hotfix"} and not entry["gate"]["passed"]


def test_other_replicas_follow_the_switch(models_dir):
    relabel(MODEL, models_dir / "candidates" / "cand-2.tar.gz", "another-training-run")
    one = App(Agent.load(str(models_dir / "assistant.tar.gz")))
    two = App(Agent.load(str(models_dir / "assistant.tar.gz")))
    assert asyncio.run(models.sync(two, models_dir)) is None  # nothing switched yet
    asyncio.run(models.activate(one, models.find("cand-2", models_dir), models_dir, actor="Li Wei"))
    followed = asyncio.run(models.sync(two, models_dir))
    assert followed["active"] == "cand-2"
    assert two.ctx.agent.processor.model_path == models_dir / "candidates" / "cand-2.tar.gz"
    assert asyncio.run(models.sync(two, models_dir)) is None  # already there
    # a replica restarted on the served file (a copy of the active model) does not reload it
    three = App(Agent.load(str(models_dir / "assistant.tar.gz")))
    assert asyncio.run(models.sync(three, models_dir)) is None
