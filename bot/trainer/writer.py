"""Corrections written into ``data/nlu/*.yml`` the way a careful person would (STYLE.md 18).

Each example goes into the file that already holds its intent, appended to that intent's
block with ruamel.yaml's round trip, so comments, order and layout stay and a ``git diff``
shows only the added lines. Before anything is written, personal data becomes realistic
placeholders, the text takes the script the intent's examples are written in, and an example
the data already has (after normalisation) is skipped with the reason. Every save runs
``rasa data validate`` and puts the files back, with Rasa's reason, when it fails; a save
that passes is one git commit authored by the trainer when the project is a git work tree.

A file lock around the whole read-modify-validate-write keeps two trainers' saves (threads or
processes) from overwriting each other: the second one reads what the first one wrote.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from bot import text as zh
from bot.trainer import privacy

ROOT = Path(__file__).resolve().parents[2]
_THREAD_LOCK = threading.Lock()


@dataclass
class Correction:
    """One message as the trainer labelled it; entity spans index ``text``."""

    text: str
    intent: str
    entities: List[Dict] = field(default_factory=list)  # {"start", "end", "entity"}


@dataclass
class SaveResult:
    """What a save did: lines added (file, line), corrections skipped (text, reason), commit."""

    added: List[Tuple[str, str]] = field(default_factory=list)
    skipped: List[Tuple[str, str]] = field(default_factory=list)
    commit: Optional[str] = None


class SaveRefused(Exception):
    """The save broke ``rasa data validate`` (or could not be placed); files were restored."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _yaml() -> YAML:
    """The project's layout: 2-space mappings, list dashes indented by 2, no line wrapping."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


@contextlib.contextmanager
def data_lock(project: Path) -> Iterator[None]:
    """Exclusive across threads and processes, per project folder."""
    key = hashlib.sha1(str(Path(project).resolve()).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"shouhou-trainer-{key}.lock"
    with _THREAD_LOCK, open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def domain_intents(project: Path = ROOT) -> List[str]:
    """The intents a trainer may choose from (the domain's, for the searchable list)."""
    data = YAML(typ="safe").load((Path(project) / "domain.yml").read_text(encoding="utf-8")) or {}
    return sorted(i if isinstance(i, str) else next(iter(i)) for i in data.get("intents") or [])


def example_lines(block: str) -> List[str]:
    """The examples of a block scalar, without their ``- `` dash."""
    return [line.strip()[2:] for line in block.splitlines() if line.strip().startswith("- ")]


def data_script(examples: Sequence[str]) -> str:
    """The script most of an intent's examples are written in (Simplified on a tie)."""
    traditional = sum(1 for e in examples if zh.detect_script(e) == zh.TRADITIONAL)
    return zh.TRADITIONAL if traditional > len(examples) - traditional else zh.SIMPLIFIED


def _clean(piece: str, script: str) -> str:
    piece = privacy.placeholders(piece)
    piece = zh.in_script(zh.to_simplified(piece), script)
    return re.sub(r"\s+", " ", piece)


def render(correction: Correction, script: str = zh.SIMPLIFIED) -> str:
    """The example line: placeholders, the data's script, entities as ``[text](entity)``."""
    text, out, at = correction.text, [], 0
    for entity in sorted(correction.entities, key=lambda e: e["start"]):
        start, end, name = int(entity["start"]), int(entity["end"]), entity["entity"]
        if not (at <= start < end <= len(text)) or not re.fullmatch(r"[a-z_]+", name):
            raise SaveRefused(f"entity {name!r} at {start}-{end} is outside the message or overlaps another")
        out.append(_clean(text[at:start], script))
        value = _clean(text[start:end], script).strip()
        out.append(f"[{value}]({name})")
        at = end
    out.append(_clean(text[at:], script))
    return "".join(out).strip()


class DataSet:
    """The NLU files of a project, loaded for one save."""

    def __init__(self, project: Path) -> None:
        self.project = Path(project)
        self.files: Dict[Path, object] = {}
        self.originals: Dict[Path, str] = {}
        self.home: Dict[str, Tuple[Path, dict]] = {}
        self.seen: Dict[str, str] = {}
        self._hand_written: set = set()  # intents with a hand-written file: corrections go there
        for path in sorted((self.project / "data" / "nlu").glob("*.yml")):
            raw = path.read_text(encoding="utf-8")
            doc = _yaml().load(raw)
            self.files[path], self.originals[path] = doc, raw
            generated = "Generated from" in raw[:400]  # e.g. data/nlu/real.yml, rewritten by a script
            for item in (doc or {}).get("nlu") or []:
                if "intent" in item and "examples" in item:
                    if generated:  # only when no hand-written file holds the intent
                        self.home.setdefault(item["intent"], (path, item))
                    elif item["intent"] not in self._hand_written:  # the first hand-written file wins
                        self.home[item["intent"]] = (path, item)
                        self._hand_written.add(item["intent"])
                    for example in example_lines(item["examples"]):
                        self.seen.setdefault(privacy.normalise(example), item["intent"])
        self.test_sets = {}  # messages the model must never train on (tests/unit/test_nlu_data.py)
        for path in sorted((self.project / "tests" / "nlu").glob("*.yml")):
            doc = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
            for item in doc.get("nlu") or []:
                for example in example_lines(item.get("examples") or ""):
                    self.test_sets.setdefault(privacy.normalise(example), path.name)

    def add(self, correction: Correction) -> Tuple[Optional[str], Optional[str]]:
        """(file name, line) once added, or (None, reason) when it is not added."""
        if correction.intent not in self.home:
            return None, f"no file in data/nlu holds examples of {correction.intent!r}; add the intent by hand first"
        path, item = self.home[correction.intent]
        line = render(correction, data_script(example_lines(item["examples"])))
        key = privacy.normalise(line)
        if not key:
            return None, "nothing left to learn from once personal data is removed"
        if key in self.seen:
            return None, f"already an example of {self.seen[key]}"
        if key in self.test_sets:
            return None, f"a message of the test set {self.test_sets[key]}: the model must never train on it"
        block = str(item["examples"])
        item["examples"] = LiteralScalarString(block + ("" if block.endswith("\n") else "\n") + f"- {line}\n")
        self.seen[key] = correction.intent
        return path.name, line

    def changed(self) -> List[Path]:
        return [p for p in self.files if self.dump(p) != self.originals[p]]

    def dump(self, path: Path) -> str:
        buffer = io.StringIO()
        _yaml().dump(self.files[path], buffer)
        return buffer.getvalue()


def validate(project: Path, names: Sequence[str] = ()) -> Tuple[bool, str]:
    """``rasa data validate`` on the project, with this checkout's NLU components importable.

    Rasa only *warns* about an intent or entity missing from the domain, or an example
    labelled with two intents, and exits 0; the project's data has unrelated warnings (unused
    responses), so ``--fail-on-warnings`` would refuse everything. A save fails when Rasa
    fails, or warns about one of ``names`` (the intents and entities the save touches) or
    about examples repeated across intents.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               SQLALCHEMY_SILENCE_UBER_WARNING="1", TF_CPP_MIN_LOG_LEVEL="2", RASA_TELEMETRY_ENABLED="false")
    rasa = Path(sys.executable).parent / "rasa"
    done = subprocess.run([str(rasa), "data", "validate", "--data", "data", "--domain", "domain.yml",
                           "--config", "config.yml"], cwd=project, env=env, capture_output=True, text=True)
    output = (done.stdout + done.stderr).splitlines()
    warnings = [line.split("UserWarning: ", 1)[1] for line in output if "UserWarning: " in line]
    ours = [w for w in warnings if any(f"'{n}'" in w for n in names) or "different intents" in w]
    if done.returncode != 0:
        reasons = [line for line in output if "error" in line.lower() or "invalid" in line.lower()]
        return False, "\n".join((reasons or output)[-12:])
    return not ours, "\n".join(ours)


def is_git_work_tree(path: Path) -> bool:
    done = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=path, capture_output=True, text=True)
    return done.returncode == 0 and done.stdout.strip() == "true"


def commit(project: Path, files: Sequence[Path], trainer: str, message: str, email: Optional[str] = None) -> str:
    """One commit of exactly these files, authored by the trainer; returns its hash."""
    author = f"{trainer} <{email or re.sub(r'[^a-z0-9.]+', '.', trainer.lower()).strip('.') + '@trainers.local'}>"
    env = dict(os.environ)
    env.setdefault("GIT_COMMITTER_NAME", "售后助手 trainer console")
    env.setdefault("GIT_COMMITTER_EMAIL", "trainer-console@localhost")
    names = [str(f.relative_to(project)) for f in files]
    subprocess.run(["git", "add", "--", *names], cwd=project, check=True, env=env, capture_output=True)
    subprocess.run(["git", "commit", "-q", "--author", author, "-m", message, "--only", "--", *names],
                   cwd=project, check=True, env=env, capture_output=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, check=True, capture_output=True,
                          text=True).stdout.strip()


def save(project: Path, corrections: Sequence[Correction], trainer: str, message: str = "",
         email: Optional[str] = None) -> SaveResult:
    """Write a batch of corrections, validate, commit; raise ``SaveRefused`` and restore on failure."""
    project = Path(project)
    result = SaveResult()
    with data_lock(project):
        data = DataSet(project)
        for correction in corrections:
            where, what = data.add(correction)
            if where is None:
                result.skipped.append((correction.text, what))
            else:
                result.added.append((where, what))
        changed = data.changed()
        if not changed:
            return result
        for path in changed:
            path.write_text(data.dump(path), encoding="utf-8")
        names = {c.intent for c in corrections} | {e["entity"] for c in corrections for e in c.entities}
        ok, reason = validate(project, sorted(names))
        if not ok:
            for path in changed:
                path.write_text(data.originals[path], encoding="utf-8")
            raise SaveRefused(f"rasa data validate failed, nothing saved:\n{reason}")
        if is_git_work_tree(project / "data"):
            summary = message or f"NLU: {len(result.added)} example(s) from the trainer inbox"
            body = "\n".join(f"- {f}: {line}" for f, line in result.added)
            result.commit = commit(project, changed, trainer, f"{summary}\n\n{body}", email)
    return result
