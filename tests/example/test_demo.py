"""The example project's ``demo`` command, end to end against a real Redis."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from django_rsmq.engine import RSMQ

from .conftest import MANAGE, Manage

pytestmark = pytest.mark.slow


def test_demo_syncs_sends_consumes_and_prints_the_stats_table(manage: Manage, rsmq: RSMQ):
    done = manage("demo")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr

    # rsmq_queues sync created the declared queues
    assert "create orders [default]" in out
    assert sorted(rsmq.list_queues()) == ["notifications", "orders", "orders-dlq", "reminders"]
    # rsmq_consume --burst: a progress line, and everything due was handled:
    # 54 good orders + 20 notifications + 5 reminders due now; 18 + 12 failures
    assert re.search(r"^progress processed=\d+ failed=\d+ in_flight=\d+ rate=", out, re.M)
    assert "stopped (exit code 0): processed 79, failed 30" in out
    # rsmq_stats: the table, with the failures and the DLQ filled up
    assert re.search(r"^QUEUE +VISIBLE +IN-FLIGHT +DELAYED +SENT +RECEIVED +FAILED +DLQ", out, re.M)
    assert re.search(r"^orders +0 +0 +0 +60 +84 +30 +6 ", out, re.M)
    assert re.search(r"^reminders +0 +0 +5 +10 +5 ", out, re.M)

    # What is in Redis afterwards, read through the engine
    dead = rsmq.peek("orders-dlq", limit=100)
    assert sorted(m.body["order"] for m in dead) == [10, 20, 30, 40, 50, 60]
    records = rsmq.failed("orders", limit=100)
    kinds = sorted({r.exc_type for r in records.items})
    assert records.total == 30
    assert kinds == ["shop.handlers.PaymentDeclined", "shop.handlers.WarehouseTimeout"]
    assert sum(r.dead_lettered for r in records.items) == 6
    assert rsmq.get_queue_attributes("reminders").delayed == 5
    assert rsmq.get_queue_attributes("notifications").msgs == 0


def test_demo_fresh_starts_from_empty_queues(manage: Manage, rsmq: RSMQ):
    assert (
        manage("demo", "--orders", "10", "--notifications", "0", "--reminders", "0").returncode == 0
    )
    done = manage("demo", "--fresh", "--orders", "10", "--notifications", "0", "--reminders", "0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "purged orders-dlq: 1 message(s) deleted" in done.stdout
    assert rsmq.get_queue_attributes("orders-dlq").msgs == 1  # only this run's order 10
    assert rsmq.failed("orders").total == 3 + 2  # order 10 three times, 4 and 8 once


def test_admin_login_and_the_send_page(manage: Manage, rsmq: RSMQ):
    assert manage("check", "--fail-level", "WARNING").returncode == 0
    made = manage("demo_user")
    assert made.returncode == 0, made.stderr
    assert "log in at http://127.0.0.1:8000/admin/ as admin / admin" in made.stdout
    script = textwrap.dedent(
        """
        from django.test import Client
        from django.test.utils import setup_test_environment
        setup_test_environment()
        c = Client()
        assert c.login(username="admin", password="admin")
        r = c.get("/admin/django_rsmq/queue/")
        assert r.status_code == 200, r.status_code
        r = c.post("/", {"orders": "5", "first_order": "1", "notifications": "2",
                         "reminders": "0"})
        assert r.status_code == 302, r.status_code
        r = c.get("/")
        assert r.status_code == 200 and b"Sent 7 messages" in r.content, r.content
        print("page ok")
        """
    )
    done = manage("shell", "-c", script)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "page ok" in done.stdout
    assert rsmq.get_queue_attributes("orders").visible == 5
    assert rsmq.get_queue_attributes("notifications").visible == 2


def test_the_demos_next_hints_are_commands_that_run(manage: Manage, rsmq: RSMQ):
    done = manage("demo", "--orders", "10", "--notifications", "0", "--reminders", "0")
    assert done.returncode == 0, done.stdout + done.stderr
    hints = done.stdout.split("\nNext:\n", 1)[1].splitlines()
    commands = [re.split(r"\s{3,}", line.strip())[0] for line in hints]
    assert [c.split()[-1] for c in commands] == ["list", "list", "rsmq_consume", "runserver"]
    for command in commands:
        argv = shlex.split(command)
        # this interpreter (not a bare "manage.py"), as seen from the cwd: plain "python"
        # when this interpreter is the active venv's (its bin/ is first on PATH)
        if argv[0] == "python":
            assert Path(sys.prefix) == Path(os.environ["VIRTUAL_ENV"]), argv
        else:
            assert os.path.abspath(argv[0]) == os.path.abspath(sys.executable)
        assert Path(argv[1]).resolve() == MANAGE  # this manage.py, as seen from the cwd
    for command in commands[:2]:  # rsmq_consume and runserver keep running
        ran = subprocess.run(
            shlex.split(command), env=manage.env, capture_output=True, text=True, timeout=60
        )
        assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("id=")  # the dead letter of order 10
