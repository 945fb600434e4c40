"""The management commands as a user runs them: ``python -m django ...`` in a subprocess
(Django's option handling, exit codes and the one-line errors only show there)."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from django_rsmq.management.commands.rsmq_dlq import Command as DlqCommand
from django_rsmq.management.commands.rsmq_queues import Command as QueuesCommand
from django_rsmq.testing import TestRedis

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def django(
    *args: str, env: dict[str, str], cwd: Path = ROOT, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def environ(test_redis: TestRedis, namespace: str) -> dict[str, str]:
    """The test's Redis and namespace, and no DJANGO_SETTINGS_MODULE: --settings says it."""
    env = dict(os.environ, RSMQ_TEST_URL=test_redis.url, RSMQ_TEST_NAMESPACE=namespace)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONPATH"] = str(ROOT)
    return env


# -- Django's common options after the subcommand ----------------------------------


def test_common_options_after_the_subcommand_reach_the_command() -> None:
    parser = QueuesCommand().create_parser("manage.py", "rsmq_queues")
    after = parser.parse_args(["sync", "--dry-run", "-v", "2", "--settings", "x", "--no-color"])
    assert (after.verbosity, after.settings, after.no_color, after.dry_run) == (2, "x", True, True)
    before = parser.parse_args(["-v", "3", "--traceback", "list"])
    assert (before.verbosity, before.traceback) == (3, True)  # not reset by the subparser
    plain = parser.parse_args(["list"])
    assert (plain.verbosity, plain.settings, plain.traceback) == (1, None, False)
    dlq = DlqCommand().create_parser("manage.py", "rsmq_dlq")
    got = dlq.parse_args(["flaky", "list", "--settings", "y", "--skip-checks"])
    assert (got.queue, got.settings, got.skip_checks) == ("flaky", "y", True)


def test_common_options_after_the_subcommand_through_call_command() -> None:
    out = StringIO()
    call_command("rsmq_queues", "sync", "--dry-run", "-v", "2", "--no-color", stdout=out)
    assert "would create work" in out.getvalue()
    call_command("rsmq_queues", "sync", "--verbosity=0", "--force-color", stdout=StringIO())
    out = StringIO()
    call_command("rsmq_dlq", "flaky", "list", "--traceback", "-v", "0", stdout=out)
    assert out.getvalue().strip() == "(empty)"
    call_command("rsmq_failed", "work", "list", "--verbosity", "3", stdout=StringIO())


def test_settings_and_verbosity_after_the_subcommand_on_the_command_line(
    environ: dict[str, str],
) -> None:
    sync = django("rsmq_queues", "sync", "--settings", "tests.settings", env=environ)
    assert sync.returncode == 0, sync.stderr
    assert "create work [default]" in sync.stdout
    listed = django("rsmq_queues", "list", "-v", "2", "--settings=tests.settings", env=environ)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split()[:2] == ["QUEUE", "CONNECTION"]
    dlq = django("rsmq_dlq", "flaky", "list", "--settings", "tests.settings", env=environ)
    assert (dlq.returncode, dlq.stdout.strip()) == (0, "(empty)"), dlq.stderr
    bad = django("rsmq_queues", "list", "--bogus", "--settings", "tests.settings", env=environ)
    assert bad.returncode == 2
    assert "unrecognized arguments: --bogus" in bad.stderr
