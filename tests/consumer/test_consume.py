"""``rsmq_consume`` as a real process: processing, shutdown, crashes, heartbeats."""

from __future__ import annotations

import os
import signal

import pytest

from django_rsmq import send
from django_rsmq.engine.registry import ConsumerRegistry
from django_rsmq.testing import TestRedis

from .conftest import Env

pytestmark = pytest.mark.slow


def test_consumes_messages_and_acks_them(env: Env) -> None:
    ids = [send("work", {"n": i}) for i in range(3)]
    c = env.consumer("work", "-v", "2")
    c.wait_line("started")
    done = env.wait_events("done", 3)
    assert sorted(e[2] for e in done) == sorted(ids)
    env.wait_for(lambda: env.rsmq.get_queue_attributes("work").msgs == 0, what="acks")
    c.signal(signal.SIGTERM)
    assert c.wait() == 0
    assert "processed work" in c.output()


def test_registers_itself_while_running_and_unregisters_on_stop(env: Env) -> None:
    c = env.consumer("work", "--name", "probe-1")
    c.wait_line("started")
    registry = ConsumerRegistry(env.client, env.namespace)
    (info,) = registry.list()
    assert (info.name, info.alive, info.pid, info.queues) == (
        "probe-1",
        True,
        c.proc.pid,
        ("work",),
    )
    first = info.heartbeat
    env.wait_for(lambda: registry.list()[0].heartbeat > first, what="a second heartbeat")
    c.signal(signal.SIGTERM)
    assert c.wait() == 0
    assert registry.list() == []


def test_sigterm_lets_the_slow_handler_finish_and_loses_nothing(env: Env) -> None:
    mid = send("work", {"sleep": 1.5})
    c = env.consumer("work")
    env.wait_events("start", 1)
    c.signal(signal.SIGTERM)
    assert c.wait() == 0
    assert [e[2] for e in env.events("done")] == [mid]
    assert env.rsmq.get_queue_attributes("work").msgs == 0  # acked, not lost


def test_second_signal_is_a_cold_stop_and_the_message_comes_back(env: Env) -> None:
    mid = send("work", {"sleep_first": 30})
    c = env.consumer("work")
    env.wait_events("start", 1)
    c.signal(signal.SIGTERM)
    c.wait_line("stopping")
    c.signal(signal.SIGINT)
    assert c.wait() == 3
    assert env.events("done") == []
    msg = env.wait_for(lambda: env.rsmq.receive("work"), what="redelivery after vt")
    assert (msg.id, msg.rc) == (mid, 2)


def test_sigkill_mid_handler_redelivers_to_another_consumer_after_vt(env: Env) -> None:
    mid = send("work", {"sleep_first": 30})
    a = env.consumer("work")
    (start,) = env.wait_events("start", 1)
    assert int(start[4]) == a.proc.pid
    os.kill(a.proc.pid, signal.SIGKILL)
    a.wait()
    b = env.consumer("work")
    done = env.wait_events("done", 1)
    assert done[0][2] == mid
    assert done[0][3] == "2"  # second delivery
    assert int(done[0][4]) == b.proc.pid
    b.signal(signal.SIGTERM)
    assert b.wait() == 0


def test_handler_running_three_vts_is_not_redelivered_while_heartbeating(env: Env) -> None:
    mid = send("work", {"sleep": 3.5})  # vt of "work" is 1 s
    a = env.consumer("work")
    b = env.consumer("work")
    (done,) = env.wait_events("done", 1)
    starts = env.events("start")
    assert [(s[2], s[3]) for s in starts] == [(mid, "1")], starts
    assert done[3] == "1"
    for c in (a, b):
        c.signal(signal.SIGTERM)
    assert [a.wait(), b.wait()] == [0, 0]
    assert env.rsmq.get_queue_attributes("work").msgs == 0


def test_handler_exception_retries_then_dead_letters(env: Env) -> None:
    mid = send("flaky", "boom")  # MAX_RECEIVES 3, RETRY [0], DLQ flaky-dlq
    c = env.consumer("flaky", "-v", "2")
    env.wait_for(lambda: env.msgs("flaky-dlq") == 1, what="the DLQ move")
    assert [(e[2], e[3]) for e in env.events("start")] == [(mid, "1"), (mid, "2"), (mid, "3")]
    c.wait_line("dead-lettered flaky")
    assert env.rsmq.get_queue_attributes("flaky").msgs == 0
    (dead,) = env.rsmq.peek("flaky-dlq")
    assert dead.raw == "boom"
    records = env.rsmq.failed("flaky").items
    assert [(r.message_id, r.rc, r.dead_lettered) for r in records] == [
        (mid, 3, True),
        (mid, 2, False),
        (mid, 1, False),
    ]
    assert "always fails" in records[0].error
    assert "ValueError" in records[0].exc_type
    c.signal(signal.SIGTERM)
    assert c.wait() == 0


def test_async_handlers_run_concurrently_on_the_event_loop(env: Env) -> None:
    for i in range(4):
        send("awork", {"sleep": 1.0, "n": i})
    c = env.consumer("awork", "-c", "4", "-v", "2")
    env.wait_events("done", 4)
    # All four ran at the same time: each started before any finished.
    kinds = [e[0] for e in env.events()]
    assert kinds[:4] == ["start"] * 4, kinds
    c.signal(signal.SIGTERM)
    assert c.wait() == 0
    assert c.output().count("processed awork") == 4


def test_burst_drains_then_exits(env: Env) -> None:
    for i in range(5):
        send("work", {"n": i})
    c = env.consumer("work", "--burst", "-c", "2")
    assert c.wait() == 0
    assert len(env.events("done")) == 5
    assert "--burst" in c.output()


def test_max_messages_and_max_idle_time(env: Env) -> None:
    for i in range(3):
        send("work", {"n": i})
    c = env.consumer("work", "--max-messages", "2")
    assert c.wait() == 0
    assert len(env.events("done")) == 2
    assert env.rsmq.get_queue_attributes("work").msgs == 1
    idle = env.consumer("work", "--max-idle-time", "1")
    assert idle.wait() == 0
    assert "--max-idle-time" in idle.output()


def test_progress_line_at_verbosity_1(env: Env) -> None:
    send("work", {})
    c = env.consumer("work")
    line = c.wait_line("progress processed=1")
    assert "failed=0" in line
    assert "rate=" in line
    c.signal(signal.SIGINT)
    assert c.wait() == 0


def test_exit_codes_for_config_and_connection_errors(env: Env) -> None:
    c = env.consumer("no-such-handler")
    assert c.wait() == 2
    assert "No @handler registered" in c.output()
    env.url = "redis://127.0.0.1:1/0"  # nothing listens there
    c = env.consumer("work")
    assert c.wait() == 1
    assert "Cannot reach Redis" in c.output()


def test_consumer_survives_a_redis_restart(own_redis: TestRedis, namespace: str) -> None:
    from django.test import override_settings

    from tests.settings import rsmq_setting

    assert own_redis.server is not None
    env = Env(own_redis, namespace)
    with override_settings(RSMQ=rsmq_setting(own_redis.url, namespace)):
        try:
            send("work", {"n": 1})
            c = env.consumer("work")
            env.wait_events("done", 1)
            own_redis.server.stop()  # clean shutdown: the AOF keeps everything
            own_redis.server.start()
            env.rsmq.send("work", '{"n": 2}')
            env.wait_events("done", 2, timeout=30)
            c.signal(signal.SIGTERM)
            assert c.wait() == 0
        finally:
            for p in env.procs:
                p.stop()
