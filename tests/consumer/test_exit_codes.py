"""``rsmq_consume`` exit codes and stop times as a real process: a cold stop is
immediate and exits 3 only when it cut handlers off; a handler's SystemExit; an outage
while acking is one log line without a traceback."""

from __future__ import annotations

import signal
import time

import pytest
from django.test import override_settings

from django_rsmq import send
from django_rsmq.testing import TestRedis
from tests.settings import rsmq_setting

from .conftest import ConsumerProcess, Env

pytestmark = pytest.mark.slow

WAIT = 20.0  # the long poll a cold stop must not wait for


def long_poll_consumer(env: Env, *args: str) -> ConsumerProcess:
    environ = env.environ(RSMQ_TEST_WAIT=str(WAIT))
    environ["DJANGO_SETTINGS_MODULE"] = "tests.consumer.settings_longpoll"
    p = ConsumerProcess(list(args), environ)
    env.procs.append(p)
    return p


def test_second_sigint_of_an_idle_consumer_exits_0_at_once(env: Env) -> None:
    c = long_poll_consumer(env, "work")
    c.wait_line("started")
    c.signal(signal.SIGINT)
    c.wait_line("stopping")
    started = time.monotonic()
    c.signal(signal.SIGINT)
    assert c.wait(timeout=WAIT / 2) == 0  # nothing was running: nothing was cut off
    assert time.monotonic() - started < 5.0  # not the long poll's WAIT (20 s)
    out = c.output()
    assert "delivered again" not in out
    assert "stopped (exit code 0)" in out


def test_cold_stop_cutting_a_handler_off_exits_3_at_once(env: Env) -> None:
    mid = send("work", {"sleep_first": 30})
    c = long_poll_consumer(env, "work", "-c", "2")  # a free worker: the fetcher long-polls
    env.wait_events("start", 1)
    c.signal(signal.SIGTERM)
    c.wait_line("stopping")
    started = time.monotonic()
    c.signal(signal.SIGINT)
    assert c.wait(timeout=WAIT / 2) == 3
    assert time.monotonic() - started < 5.0
    assert "1 message(s) still being handled will be delivered again" in c.output()
    msg = env.wait_for(lambda: env.rsmq.receive("work"), what="redelivery after vt")
    assert (msg.id, msg.rc) == (mid, 2)


def test_handler_raising_system_exit_fails_the_message_and_exits_5(env: Env) -> None:
    mid = send("work", {"exit": 0})  # even sys.exit(0): the message did not succeed
    other = send("work", {"n": 2})
    c = env.consumer("work")
    assert c.wait() == 5
    (record,) = env.rsmq.failed("work").items
    assert (record.message_id, record.exc_type, record.rc) == (mid, "SystemExit", 1)
    out = c.output()
    assert "raised SystemExit" in out
    assert "stopped (exit code 5)" in out
    # The warm stop gave the unstarted message back at once, nothing is left hidden.
    attrs = env.rsmq.get_queue_attributes("work")
    assert attrs.msgs == 2
    assert [m.id for m in env.rsmq.receive_many("work", 10)] in ([other], [other, mid])


def test_outage_while_acking_is_logged_in_one_line_without_traceback(
    own_redis: TestRedis, namespace: str
) -> None:
    assert own_redis.server is not None
    env = Env(own_redis, namespace)
    with override_settings(RSMQ=rsmq_setting(own_redis.url, namespace)):
        try:
            send("work", {"sleep": 1})
            c = env.consumer("work")
            env.wait_events("start", 1)
            # The handler's last event write (so it fails) and the failure record (or the
            # ack) meet a Redis that is gone.
            own_redis.server.stop()
            try:
                line = c.wait_line("delivered again after its visibility timeout", timeout=30)
            finally:
                own_redis.server.start()
            assert "ConnectionError: " in line  # the error's text, not only its type
            env.wait_events("done", 1, timeout=30)  # delivered again after its vt
            c.signal(signal.SIGTERM)
            assert c.wait() == 0
            out = c.output()
            assert "Traceback" not in out
            assert "Unexpected error" not in out
        finally:
            for p in env.procs:
                p.stop()
            env.client.close()
            env.rsmq.client.close()
