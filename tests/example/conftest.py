"""Run the example project's manage.py as a subprocess, pointed at the test Redis.

The example uses the embedded Redis by default; here ``EXAMPLE_REDIS_URL`` points it
at the session's test Redis (fast, nothing left running) and ``EXAMPLE_RSMQ_NAMESPACE``
at the test's own namespace. ``.ci/run``'s quickstart smoke test covers the embedded
default.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from django_rsmq.testing import TestRedis

MANAGE = Path(__file__).resolve().parents[2] / "example_project" / "manage.py"

Manage = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def manage(test_redis: TestRedis, namespace: str, tmp_path: Path) -> Manage:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example.settings",
        "EXAMPLE_REDIS_URL": test_redis.url,
        "EXAMPLE_RSMQ_NAMESPACE": namespace,
        "EXAMPLE_DB": str(tmp_path / "db.sqlite3"),
        "PYTHONUNBUFFERED": "1",
    }

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(MANAGE), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    run.env = env  # type: ignore[attr-defined]  # for commands the demo prints
    return run
