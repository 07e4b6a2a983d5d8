"""In CI a skipped test is a failure (tests/conftest.py), so a missing PostgreSQL or browser
cannot pass CI unnoticed; outside CI a skip stays a skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("ci, code", [("true", 1), ("", 0)])
def test_a_skip_fails_only_in_ci(tmp_path: Path, ci: str, code: int):
    probe = tmp_path / "test_probe.py"
    probe.write_text("import pytest\n\ndef test_needs_a_service():\n    pytest.skip('no service here')\n")
    env = {**os.environ, "CI": ci}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "--rootdir", str(tmp_path), str(probe)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == code, run.stdout + run.stderr
    if code:
        assert "counts as a failure: Skipped: no service here" in run.stdout
