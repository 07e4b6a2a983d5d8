"""Training a candidate model in the background, with progress anyone can read while it runs.

``start`` returns at once: the work runs in its own process (``python -m bot.trainer.training
run NAME``), so neither the Rasa server's event loop nor its GIL carries a training or an
evaluation. The process trains with the same ``rasa train`` arguments as
``scripts/train_if_needed.sh``, but into ``models/candidates/NAME.tar.gz`` (the served model is
untouched), then compares the candidate with the active model (``bot.trainer.evaluate``).

Its state lives in ``models/candidates/NAME.run.json`` (queued, training, evaluating, done,
failed; progress 0-1) and its output in ``NAME.log``; ``status`` reads both. One training at a
time: a second one waits, "queued", for the first. Progress while training is estimated from
how long the last training took (rasa prints no progress in ``--quiet`` mode).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Optional

from bot.trainer import evaluate
from bot.trainer import models as registry

ROOT = Path(__file__).resolve().parents[2]
STATES = ("queued", "training", "evaluating", "done", "failed")
DEFAULT_SECONDS = 60.0


def _paths(models: Path, name: str) -> Dict[str, Path]:
    folder = registry.candidates_dir(models)
    return {"run": folder / f"{name}.run.json", "log": folder / f"{name}.log",
            "model": folder / f"{name}.tar.gz", "evaluation": folder / f"{name}.evaluation.json"}


def _write(models: Path, name: str, **changes: Any) -> Dict[str, Any]:
    path = _paths(models, name)["run"]
    state = json.loads(path.read_text()) if path.exists() else {"id": name}
    state.update(changes)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False))
    os.replace(tmp, path)
    return state


def active_model(models: Path = registry.MODELS) -> Path:
    """The model the server runs: the registry's active candidate, else the served file."""
    name = registry.registry(models)["active"]
    if name and (registry.candidates_dir(models) / f"{name}.tar.gz").exists():
        return registry.candidates_dir(models) / f"{name}.tar.gz"
    return Path(models) / registry.SERVED


def start(project: Path = ROOT, models: Path = registry.MODELS, trainer: str = "") -> str:
    """Queue a training run of ``project``'s data; returns its id (the candidate's name)."""
    name = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    registry.candidates_dir(models).mkdir(parents=True, exist_ok=True)
    _write(models, name, state="queued", progress=0.0, trainer=trainer, queued_at=time.time())
    paths = _paths(models, name)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    with paths["log"].open("ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "bot.trainer.training", "run", name, "--project", str(project),
                          "--models", str(models)], cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True)
    _write(models, name, pid=process.pid)
    return name


def _alive(pid: Optional[int]) -> bool:
    if not pid:
        return True  # not started yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a finished child of this process that nobody waited for is a zombie, not alive
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True


def status(run_id: str, models: Path = registry.MODELS, tail: int = 20) -> Optional[Dict[str, Any]]:
    """{"id", "state", "progress", "log_tail", "evaluation", "gate"} of a run, or None."""
    if "/" in run_id or run_id.startswith("."):
        return None
    paths = _paths(models, run_id)
    if not paths["run"].exists():
        return None
    state = json.loads(paths["run"].read_text())
    if state["state"] in ("queued", "training", "evaluating") and not _alive(state.get("pid")):
        state = json.loads(paths["run"].read_text())  # it may have finished just now
        if state["state"] in ("queued", "training", "evaluating"):
            state = _write(models, run_id, state="failed", error="the training process ended unexpectedly")
    if state["state"] == "training":  # the estimate moves while the process trains
        expected = state.get("expected_seconds") or DEFAULT_SECONDS
        state["progress"] = round(min(0.85, 0.05 + 0.8 * (time.time() - state["started_at"]) / expected), 3)
    log = paths["log"].read_text(errors="replace").splitlines() if paths["log"].exists() else []
    state["log_tail"] = log[-tail:]
    state["evaluation"] = json.loads(paths["evaluation"].read_text()) if paths["evaluation"].exists() else None
    state["gate"] = registry.gate(state["evaluation"]) if state["evaluation"] else None
    return state


def runs(models: Path = registry.MODELS) -> list:
    """Every training run, newest first (for the console's list)."""
    folder = registry.candidates_dir(models)
    names = sorted((p.name[: -len(".run.json")] for p in folder.glob("*.run.json")), reverse=True)
    return [s for s in (status(n, models, tail=0) for n in names) if s]


def run(name: str, project: Path = ROOT, models: Path = registry.MODELS) -> int:
    """The background process: wait for the lock, train, evaluate; the state file says how far."""
    folder = registry.candidates_dir(models)
    paths = _paths(models, name)
    timing = folder / ".last_training_seconds"
    with open(folder / ".training.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            expected = float(timing.read_text()) if timing.exists() else DEFAULT_SECONDS
            began = time.time()
            _write(models, name, state="training", progress=0.05, started_at=began, expected_seconds=expected)
            command = [sys.executable, "-m", "rasa", "train", "--config", "config.yml", "--domain", "domain.yml",
                       "--data", "data", "--out", str(folder), "--fixed-model-name", name, "--quiet"]
            env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
                       SQLALCHEMY_SILENCE_UBER_WARNING="1")
            with paths["log"].open("ab") as log:
                done = subprocess.run(command, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT)
            if done.returncode != 0 or not paths["model"].exists():
                _write(models, name, state="failed", error=f"rasa train exited with {done.returncode}")
                return 1
            timing.write_text(str(time.time() - began))
            _write(models, name, state="evaluating", progress=0.9, trained_at=time.time())
            result = evaluate.compare(
                paths["model"], active_model(models),
                required=[project / "tests" / "nlu" / "heldout.yml"],
                optional=[project / "tests" / "nlu" / "real_test.yml"],
                stories=project / "tests" / "conversations")
            paths["evaluation"].write_text(json.dumps(result, ensure_ascii=False, indent=1))
            _write(models, name, state="done", progress=1.0, finished_at=time.time())
            return 0
        except Exception as error:  # noqa: BLE001 - any failure is the run's state, shown to the trainer
            _write(models, name, state="failed", error=f"{type(error).__name__}: {error}", finished_at=time.time())
            return 1


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description="a background training run (see bot.trainer.training)")
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run")
    one.add_argument("name")
    one.add_argument("--project", default=str(ROOT))
    one.add_argument("--models", default=str(registry.MODELS))
    args = parser.parse_args(argv)
    return run(args.name, Path(args.project), Path(args.models))


if __name__ == "__main__":
    sys.exit(main())
