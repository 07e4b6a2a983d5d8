"""Models: which exist, which runs, the promotion gate, and switching without downtime.

Rasa's own ``PUT /model`` loads the new model on the event loop, so the server answers nobody
until it is done (rasa #3910), and it replaces the whole agent. ``activate`` builds the new
``MessageProcessor`` in a worker thread while the loop keeps serving with the old one, then
swaps the agent's processor (and the domain that goes with it) in one step between two
requests: a message already being handled finishes with the processor it started with, the
next one gets the new model, and conversations (the tracker store, the lock store) are not
touched. ``restore`` switches back to the model that ran before, in one call. With several replicas,
each one runs ``follow``, which switches it the same way when the registry's active model changes.

The served file ``models/assistant.tar.gz`` is replaced too (atomically), so a restart keeps the
promoted model; the one it replaces is kept under ``models/candidates/`` first, so it can be
restored. ``models/registry.json`` records what runs, what ran before, and every override.

The gate (issue #14): a candidate may be promoted when no intent's F1 drops by more than
2 points and no conversation test that passed now fails; a manager may override, and the
override is recorded with the manager's name and reason.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
SERVED = "assistant.tar.gz"
MAX_F1_DROP = 0.02
_SWAP_LOCK: Optional[asyncio.Lock] = None


class GateClosed(Exception):
    """The candidate fails the promotion gate and nobody with the right to override did."""

    def __init__(self, reasons: List[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


# ---- the list --------------------------------------------------------------------------


def model_name(path: Path) -> str:
    return Path(path).name[: -len(".tar.gz")] if str(path).endswith(".tar.gz") else Path(path).stem


def candidates_dir(models: Path = MODELS) -> Path:
    return Path(models) / "candidates"


def registry(models: Path = MODELS) -> Dict[str, Any]:
    path = Path(models) / "registry.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault("active", None)
    data.setdefault("previous", None)
    data.setdefault("history", [])
    return data


def _save_registry(models: Path, data: Dict[str, Any]) -> None:
    path = Path(models) / "registry.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2))
    os.replace(tmp, path)


def evaluation_of(path: Path) -> Optional[Dict[str, Any]]:
    """The evaluation ``training`` wrote next to a candidate, if any."""
    file = Path(str(path)[: -len(".tar.gz")] + ".evaluation.json")
    return json.loads(file.read_text()) if file.exists() else None


def find(name: str, models: Path = MODELS) -> Path:
    """A candidate's file by name (no paths: a name cannot leave the candidates folder)."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise KeyError(name)
    path = candidates_dir(models) / f"{name}.tar.gz"
    if not path.exists():
        raise KeyError(name)
    return path


def list_models(models: Path = MODELS) -> List[Dict[str, Any]]:
    """Every candidate, newest first, with whether it runs and its evaluation and gate."""
    state = registry(models)
    files = sorted(candidates_dir(models).glob("*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    out = []
    for index, path in enumerate(files):
        name = model_name(path)
        evaluation = evaluation_of(path)
        out.append({"name": name, "active": name == state["active"], "newest": index == 0,
                    "previous": name == state["previous"], "trained_at": path.stat().st_mtime,
                    "evaluation": evaluation, "gate": gate(evaluation) if evaluation else None})
    served = Path(models) / SERVED
    if state["active"] is None and served.exists():  # before the first switch: what `make model` trained
        out.append({"name": model_name(served), "active": True, "newest": False, "previous": False,
                    "trained_at": served.stat().st_mtime, "evaluation": None, "gate": None, "served_file": True})
    return out


# ---- the gate --------------------------------------------------------------------------


SET_NAMES = {"heldout": "团队留出集", "real_test": "真实消息测试集"}
NOT_EVALUATED = "这个模型还没有评估"


def gate(evaluation: Dict[str, Any], max_drop: float = MAX_F1_DROP) -> Dict[str, Any]:
    """{"passed", "reasons"}: intents whose F1 fell more than ``max_drop``, tests newly failing."""
    reasons = []  # in Chinese: trainers read them on the models page
    for test_set in evaluation.get("sets", []):
        shown = SET_NAMES.get(test_set["name"], test_set["name"])
        for intent, f1 in test_set.get("per_intent_f1", {}).items():
            before = test_set.get("active_per_intent_f1", {}).get(intent)
            if before is not None and before - f1 > max_drop + 1e-9:
                reasons.append(f"{shown}：意图 {intent} 的 F1 从 {before:.3f} 降到 {f1:.3f}")
    for story in evaluation.get("conversations", {}).get("newly_failing", []):
        reasons.append(f"对话测试“{story}”原来通过，现在失败")
    if evaluation.get("error"):
        reasons.append(f"评估没有完成：{evaluation['error']}")
    return {"passed": not reasons, "reasons": reasons}


# ---- switching the running server ------------------------------------------------------


def _lock() -> asyncio.Lock:
    global _SWAP_LOCK
    if _SWAP_LOCK is None:
        _SWAP_LOCK = asyncio.Lock()
    return _SWAP_LOCK


async def load_processor(agent: Any, path: Path) -> Any:
    """The new model's processor, built in a worker thread: the event loop keeps serving."""
    from rasa.core.processor import MessageProcessor

    return await asyncio.to_thread(
        MessageProcessor, model_path=str(path), tracker_store=agent.tracker_store, lock_store=agent.lock_store,
        action_endpoint=agent.action_endpoint, generator=agent.nlg, http_interpreter=agent.http_interpreter)


def swap(agent: Any, processor: Any) -> Any:
    """Point the agent at the new processor and its domain; no await, so no request sees half."""
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    old = agent.processor
    agent.processor = processor
    agent.domain = processor.domain
    if agent.tracker_store is not None:
        agent.tracker_store.domain = processor.domain
    if isinstance(agent.nlg, TemplatedNaturalLanguageGenerator):
        agent.nlg.responses = processor.domain.responses if processor.domain else {}
    return old


async def activate(app: Any, path: Path, models: Path = MODELS, actor: str = "", persist: bool = True,
                   evidence: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Run the model at ``path`` in the server of ``app`` (a Sanic app with ``ctx.agent``).

    ``evidence`` (the gate's verdict, an override) is kept with the switch in the history.
    """
    agent = app.ctx.agent
    async with _lock():
        started = time.perf_counter()
        processor = await load_processor(agent, Path(path))
        load_seconds = time.perf_counter() - started
        old = swap(agent, processor)
        state = registry(models)
        old_name = state["active"] or await asyncio.to_thread(_keep_served, models, old)
        if persist:
            await asyncio.to_thread(_serve_file, models, Path(path))
        state.update(previous=old_name, active=model_name(path))
        state["history"].append({"at": time.time(), "active": model_name(path), "by": actor, **(evidence or {})})
        _save_registry(models, state)
    return {"active": state["active"], "previous": state["previous"], "model_file": str(path),
            "load_seconds": round(load_seconds, 3)}


def _keep_served(models: Path, old_processor: Any) -> Optional[str]:
    """Before the first switch, keep the model that was running so ``restore`` can go back."""
    source = Path(old_processor.model_path) if old_processor is not None else Path(models) / SERVED
    if not source.exists():
        return None
    candidates_dir(models).mkdir(parents=True, exist_ok=True)
    name = time.strftime("served-%Y%m%d-%H%M%S")
    shutil.copy2(source, candidates_dir(models) / f"{name}.tar.gz")
    return name


def _serve_file(models: Path, path: Path) -> None:
    """models/assistant.tar.gz becomes a copy of ``path``, replaced atomically."""
    target = Path(models) / SERVED
    tmp = target.with_name(target.name + ".switching")
    shutil.copy2(path, tmp)
    os.replace(tmp, target)


async def promote(app: Any, name: str, actor: str, models: Path = MODELS,
                  override_by: Optional[str] = None, override_reason: str = "") -> Dict[str, Any]:
    """Activate a candidate when it passes the gate, or when a manager overrides (recorded).

    The console checks that ``override_by`` is a manager; this records who and why.
    """
    path = find(name, models)
    evaluation = evaluation_of(path)
    verdict = gate(evaluation) if evaluation else {"passed": False, "reasons": [NOT_EVALUATED]}
    evidence: Dict[str, Any] = {"gate": verdict}
    if not verdict["passed"]:
        if not (override_by and override_reason.strip()):
            raise GateClosed(verdict["reasons"])
        state = registry(models)
        state.setdefault("overrides", []).append({"at": time.time(), "model": name, "by": override_by,
                                                  "reason": override_reason.strip(), "gate": verdict["reasons"]})
        _save_registry(models, state)
        evidence["override"] = {"by": override_by, "reason": override_reason.strip()}
    return await activate(app, path, models, actor=actor, evidence=evidence)


async def restore(app: Any, actor: str, models: Path = MODELS) -> Dict[str, Any]:
    """Back to the model that ran before the last switch, in one call."""
    previous = registry(models)["previous"]
    if not previous:
        raise KeyError("no previous model to restore")
    return await activate(app, find(previous, models), models, actor=actor)


def model_id(path: Path) -> str:
    """The id Rasa gave a model when it trained it (read from the archive, not loaded)."""
    stat = Path(path).stat()
    return _model_id(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _model_id(path: str, _mtime_ns: int, _size: int) -> str:
    """Unpacking an archive costs; ``follow`` asks every two seconds, so once per file version."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    return LocalModelStorage.metadata_from_archive(path).model_id


async def sync(app: Any, models: Path = MODELS) -> Optional[Dict[str, Any]]:
    """Run the registry's active model if this server runs another one; None when already so.

    With several Rasa replicas (make cluster), the console's switch happens in one of them;
    each replica runs ``follow`` and so switches too within seconds, the same way (loaded in a
    thread, swapped between requests), without writing any file.
    """
    name = registry(models)["active"]
    path = candidates_dir(models) / f"{name}.tar.gz" if name else None
    if path is None or not path.exists():
        return None
    agent = app.ctx.agent
    running = agent.processor.model_metadata.model_id if agent.processor is not None else None
    if running == await asyncio.to_thread(model_id, path):
        return None  # a replica restarted on assistant.tar.gz, a copy of the active model, runs it already
    async with _lock():
        swap(agent, await load_processor(agent, path))
    return {"active": name, "model_file": str(path)}


async def follow(app: Any, models: Path = MODELS, interval: float = 2.0) -> None:
    """Keep this server on the registry's active model (a background task for every replica)."""
    import logging

    while True:
        try:
            await sync(app, models)
        except Exception:  # noqa: BLE001 - a broken candidate must not stop the server following
            logging.getLogger(__name__).exception("could not follow the active model")
        await asyncio.sleep(interval)


async def parse(app: Any, text: str) -> Dict[str, Any]:
    """The running model's reading of ``text`` for the trainer's "try it" box."""
    result = await app.ctx.agent.parse_message(text)
    intent = result.get("intent") or {}
    return {"intent": {"name": intent.get("name"), "confidence": float(intent.get("confidence") or 0.0)},
            "entities": [{k: e.get(k) for k in ("entity", "value", "start", "end", "extractor")}
                         for e in result.get("entities") or []],
            "intent_ranking": [{"name": r.get("name"), "confidence": float(r.get("confidence") or 0.0)}
                               for r in (result.get("intent_ranking") or [])[:5]]}
