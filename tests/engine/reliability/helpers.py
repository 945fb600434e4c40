"""Bounded waiting and process helpers for the reliability tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[3]


def wait_for(fn: Callable[[], T | None], timeout: float = 5.0, what: str = "condition") -> T:
    """Poll ``fn`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


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
