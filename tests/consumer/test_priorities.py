"""Queue priorities through ``manage.py rsmq_consume`` as a real process (issue 15):
``--strict``, weights reaching every ``--processes`` child, and the one-line usage
errors. The shares of weighted order are measured in-process
(tests/django/test_consumer_priorities.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from django_rsmq import send

from .conftest import ROOT, Env

pytestmark = pytest.mark.slow


def _backlog(each: int) -> dict[str, set[str]]:
    return {q: {send(q, {"n": i}) for i in range(each)} for q in ("work", "awork")}


def test_strict_handles_the_first_queue_before_the_second(env: Env) -> None:
    sent = _backlog(10)
    c = env.consumer("--strict", "--burst", "--prefetch", "0", "awork", "work")
    assert "(strict order)" in c.wait_line("started")
    assert c.wait() == 0
    done = env.events("done")
    assert [e[1] for e in done] == ["awork"] * 10 + ["work"] * 10  # rotating: interleaved
    assert {e[2] for e in done} == sent["awork"] | sent["work"]


def test_weights_reach_every_prefork_child(env: Env) -> None:
    sent = _backlog(10)
    c = env.consumer("--processes", "2", "--burst", "work:3", "awork")
    for _ in range(2):
        assert "(weighted work:3 awork:1)" in c.wait_line("started")
    assert c.wait() == 0
    assert {e[2] for e in env.events("done")} == sent["awork"] | sent["work"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["work:0"], "bad queue weight in 'work:0'"),
        (["work:x", "awork"], "bad queue weight in 'work:x'"),
        (["work:-1"], "bad queue weight in 'work:-1'"),
        (["--strict", "work:2", "awork"], "--strict orders the queues as given"),
        (["--processes", "2", "--strict"], "--strict needs the queues named"),
        (["-c", "0", "work"], "--concurrency must be at least 1"),  # was a traceback
    ],
)
def test_bad_queue_arguments_are_one_line_and_exit_2(env: Env, args: list[str], error: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "django", "rsmq_consume", *args],
        cwd=ROOT,
        env=env.environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, (run.stdout, run.stderr)
    lines = (run.stdout + run.stderr).splitlines()
    assert len(lines) == 1, lines
    assert error in lines[0]
