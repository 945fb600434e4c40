"""Process helpers for the reliability tests (bounded waits: tests/engine/helpers.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["finish", "python"]

ROOT = Path(__file__).resolve().parents[3]


def python(code: str, *args: str) -> subprocess.Popen[str]:
    """Start ``python -c code args...`` with the repo importable, stdout piped."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 30.0) -> str:
    """Wait (bounded) for a helper process; return its stdout, failing on a bad exit."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"helper exited {proc.returncode}: {err}"
    return out
