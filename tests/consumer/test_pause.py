"""A paused queue with a real ``rsmq_consume`` on it: nothing is delivered while paused,
everything after resume, within a second of it (the resume's realtime notification wakes
a long poll that would otherwise sleep 20 s), nothing lost."""

from __future__ import annotations

import time

from django_rsmq import send
from django_rsmq.operations import queues

from .conftest import ConsumerProcess, Env


def test_a_paused_queue_delivers_nothing_and_everything_after_resume(env: Env) -> None:
    send("work", {"n": -1})  # creates the queue
    environ = env.environ(RSMQ_TEST_WAIT="20")
    environ["DJANGO_SETTINGS_MODULE"] = "tests.consumer.settings_longpoll"
    c = ConsumerProcess(["work"], environ)
    env.procs.append(c)
    c.wait_line("started")
    env.wait_events("done", 1)
    assert queues.pause("work") is True
    ids = [send("work", {"n": i}) for i in range(5)]
    paused_at = time.monotonic()
    while time.monotonic() - paused_at < 1.5:  # what is tested: nothing in this time
        assert len(env.events("done")) == 1
        time.sleep(0.05)
    assert queues.attributes("work").visible == 5
    resumed_at = time.monotonic()
    assert queues.resume("work") is True
    done = env.wait_events("done", 6, timeout=10)
    assert time.monotonic() - resumed_at < 2.0  # woken, not after the 20 s long poll
    assert sorted(e[2] for e in done[1:]) == sorted(ids)
    env.wait_for(lambda: queues.attributes("work").msgs == 0, what="acks")
    c.stop()  # kill: a warm stop would wait for the 20 s long poll
