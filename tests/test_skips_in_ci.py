"""A skip always says why, and under CI any skip fails the run (CI has everything the tests need)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = 'import pytest\n\ndef test_needs_something():\n    pytest.skip("chromium is missing: run .ci/browser-deps.sh")\n\ndef test_fine():\n    pass\n'


def run_sample(tmp_path: Path, *, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    command = [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-c", str(REPO / "pyproject.toml"), "--rootdir", str(tmp_path), str(tmp_path / "test_sample.py"), "-p", "no:cacheprovider"]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_outside_ci_a_skip_passes_and_its_reason_is_in_the_summary(tmp_path):
    done = run_sample(tmp_path, ci=None)
    assert done.returncode == 0, done.stdout
    assert "SKIPPED [1]" in done.stdout and "chromium is missing: run .ci/browser-deps.sh" in done.stdout


def test_under_ci_a_skip_fails_the_run(tmp_path):
    done = run_sample(tmp_path, ci="true")
    assert done.returncode == 1, done.stdout
    assert "CI: 1 test(s) skipped" in done.stdout and "chromium is missing" in done.stdout
