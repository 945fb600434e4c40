"""``manage.py rsmq_relay`` and the relay thread of ``rsmq_consume``."""

from __future__ import annotations

import signal
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings

from django_rsmq import outbox
from tests.consumer.conftest import ConsumerProcess
from tests.outbox.conftest import QUEUE, ROOT, Box, wait_for


def _on(box: Box, **extra: object) -> override_settings:
    return override_settings(RSMQ={**settings.RSMQ, "OUTBOX": {**settings.RSMQ["OUTBOX"], **extra}})


def _write(box: Box, n: int) -> None:
    with transaction.atomic(using=box.database):
        for i in range(n):
            outbox.send(QUEUE, {"n": i}, using=box.database)


def test_once_relays_what_is_committed_and_check_reports_the_depth(box: Box) -> None:
    _write(box, 3)
    out = StringIO()
    with _on(box, DATABASES=[box.database]):
        call_command("rsmq_relay", "--check", stdout=out)
        assert out.getvalue().startswith(f"{box.database}: ok, 3 rows waiting, oldest ")
        out = StringIO()
        call_command("rsmq_relay", "--once", stdout=out)
    assert out.getvalue().strip() == f"{box.database}: relayed 3 rows"
    assert box.msgs() == 3


def test_check_without_redis_is_one_line(box: Box) -> None:
    rsmq = {**settings.RSMQ, "CONNECTIONS": {"default": {"URL": "redis://127.0.0.1:1/0"}}}
    with override_settings(RSMQ=rsmq), pytest.raises(CommandError) as err:
        call_command("rsmq_relay", "--check", "--database", box.database)
    assert str(err.value).startswith("Cannot reach Redis: ")
    assert "\n" not in str(err.value)


def test_an_unmigrated_database_is_one_line(box: Box, tmp_path: object) -> None:
    from django.db import connections

    alias = "outbox_unmigrated"
    cfg = {"ENGINE": "django.db.backends.sqlite3", "NAME": f"{tmp_path}/none.sqlite3"}
    full = connections.configure_settings(
        {"default": dict(connections.settings["default"]), alias: cfg}
    )[alias]
    connections.settings[alias] = full
    try:
        with pytest.raises(CommandError, match=r"^Database error: no such table"):
            call_command("rsmq_relay", "--once", "--database", alias)
    finally:
        connections[alias].close()
        del connections.settings[alias]


def test_rsmq_relay_runs_until_sigterm(box: Box) -> None:
    env = box.environ()
    env["RSMQ_TEST_OUTBOX_DB"] = box.database
    p = subprocess.Popen(
        [sys.executable, "-m", "django", "rsmq_relay"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert p.stdout is not None
        assert "relaying" in p.stdout.readline()
        _write(box, 5)  # woken by the commit
        wait_for(lambda: box.msgs() == 5, what="the relay")
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    assert p.returncode == 0, out
    assert "rsmq_relay: stopped, relayed 5 rows" in out


@pytest.mark.parametrize("flag", [None, "--no-relay"])
def test_rsmq_consume_relays_the_outbox_unless_no_relay(box: Box, flag: str | None) -> None:
    env = box.environ()
    env["RSMQ_TEST_OUTBOX_DB"] = box.database
    c = ConsumerProcess(["work", *([flag] if flag else [])], env)
    try:
        c.wait_line("started")
        _write(box, 4)
        if flag is None:
            assert f"outbox relay: on ({box.database})" in c.output()
            wait_for(lambda: box.msgs() == 4, what="the consumer's relay")
        else:
            assert "outbox relay" not in c.output()
            box.rsmq.send("work", {})  # the consumer handles it: it is past its start
            wait_for(lambda: box.msgs("work") == 0, what="the consumer")
            assert box.rows() == 4
        c.signal(signal.SIGTERM)
        assert c.wait(20) == 0
    finally:
        c.stop()
    assert box.rows() == (0 if flag is None else 4)
