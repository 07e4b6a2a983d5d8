"""A throwaway copy of the project's training data in its own git repository, for trainer tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_project(where: Path, git: bool = True) -> Path:
    """data/, domain.yml and config.yml copied into ``where`` and committed once."""
    where.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "data", where / "data")
    for name in ("domain.yml", "config.yml"):
        shutil.copy(ROOT / name, where / name)
    (where / "bot").mkdir()
    shutil.copytree(ROOT / "bot" / "resources", where / "bot" / "resources")
    if git:
        run(where, "init", "-q", "-b", "main")
        run(where, "add", ".")
        run(where, "-c", "user.name=seed", "-c", "user.email=seed@localhost", "commit", "-q", "-m", "seed")
    return where


def run(where: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=where, check=True, capture_output=True, text=True).stdout
