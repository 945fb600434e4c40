"""A queue's rate limit holds across real consumer processes: three ``rsmq_consume -c 4``
on a ``100/s`` queue with a backlog start 100 messages a second between them (±10% over
10 s), and lose none."""

from __future__ import annotations

import time

from django_rsmq.engine import Entry

from .conftest import SIGTERM, Env


def test_100_per_second_holds_across_three_consumer_processes(env: Env) -> None:
    env.rsmq.create_queue("work", vt=5, rate_limit="100/s burst 10")
    for start in range(0, 1800, 100):
        env.rsmq.send_many("work", [Entry({"n": i}) for i in range(start, start + 100)])
    procs = [env.consumer("work", "-c", "4") for _ in range(3)]
    for p in procs:
        p.wait_line("started")
    env.wait_events("start", 50)  # every process is receiving
    t0, c0 = time.monotonic(), len(env.events("start"))
    while time.monotonic() - t0 < 10:  # the measurement window is what is tested
        time.sleep(0.2)
    t1, c1 = time.monotonic(), len(env.events("start"))
    rate = (c1 - c0) / (t1 - t0)
    assert 90 <= rate <= 110, f"{rate:.1f} msg/s"
    pids = {e[4] for e in env.events("start")[c0:c1]}
    assert len(pids) == 3, "every consumer took a share"
    for p in procs:
        p.signal(SIGTERM)
    for p in procs:
        assert p.wait() == 0
    done = {e[2] for e in env.events("done")}
    attrs = env.rsmq.get_queue_attributes("work")
    assert len(done) + attrs.msgs == 1800  # nothing lost: handled or still queued
