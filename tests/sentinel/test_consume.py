"""A real ``rsmq_consume`` through ``SENTINEL FAILOVER``: numbered sends from a live
producer, nothing acknowledged lost, no handler running twice at once, long handlers
kept invisible (the visibility keeper) across the switch."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections import defaultdict

import redis

from tests.consumer.conftest import ROOT, ConsumerProcess
from tests.engine.helpers import wait_for

from .group import SERVICE, SentinelGroup
from .test_failover import sentinel_rsmq


def test_rsmq_consume_through_a_planned_failover(
    sentinel_group: SentinelGroup, namespace: str
) -> None:
    g = sentinel_group
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.sentinel.settings",
        RSMQ_TEST_SENTINELS=",".join(f"{h}:{p}" for h, p in g.addresses),
        RSMQ_TEST_MASTER=SERVICE,
        RSMQ_TEST_NAMESPACE=namespace,
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(ROOT),
    )
    producer = sentinel_rsmq(g, namespace)
    # vt 3 s: longer than the switch's write fence (~1.2 s here), so the keeper's extensions
    # (every half vt) land on the new master before a long handler's message expires; with
    # a vt shorter than the failover no consumer can keep a message hidden through it.
    producer.create_queue("work", vt=3)
    consumer = ConsumerProcess(["work", "-c", "4"], env)
    acked: dict[str, int] = {}
    stop = threading.Event()

    def produce() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            # Every 50th handler outlives the queue's 3 s visibility timeout.
            body = {"n": n, "sleep": 4.5 if n % 50 == 0 else 0.002}
            with contextlib.suppress(Exception):  # not acknowledged: not counted
                acked[producer.send("work", body)] = n
            stop.wait(0.004)

    events_key = f"test:{namespace}:events"

    def events() -> list[list[str]]:
        host, port = g.master_address()
        c = redis.Redis(host=host, port=port, decode_responses=True)
        try:
            return [e.split() for e in c.lrange(events_key, 0, -1)]
        finally:
            c.close()

    t = threading.Thread(target=produce, daemon=True)
    try:
        consumer.wait_line("started:", timeout=20)
        t.start()
        wait_for(lambda: len(acked) > 200, timeout=10, what="traffic")
        old = g.failover()
        g.wait_master_not(old)
        mark = len(acked)
        wait_for(lambda: len(acked) > mark + 300, timeout=15, what="sends after the switch")
        stop.set()
        t.join(10)
        done = lambda: {e[2] for e in events() if e[0] == "done"}  # noqa: E731
        with contextlib.suppress(AssertionError):  # what is missing is counted below
            wait_for(lambda: set(acked) <= done(), timeout=30, what="every send done")
    finally:
        stop.set()
        consumer.signal(signal.SIGTERM)
        consumer.wait(20)
        consumer.stop()
    rows = events()
    per_id: dict[str, list[str]] = defaultdict(list)
    for kind, _queue, mid, *_ in rows:
        per_id[mid].append(kind)
    lost = [n for mid, n in acked.items() if "done" not in per_id[mid]]
    overlapping = [mid for mid, kinds in per_id.items() if "start,start" in ",".join(kinds)]
    duplicated = sum(kinds.count("done") - 1 for kinds in per_id.values() if kinds)
    print(
        f"sent={len(acked)} processed={len(acked) - len(lost)} lost={len(lost)} "
        f"duplicated={duplicated} overlapping={len(overlapping)}"
    )
    assert not lost, lost[:20]
    assert not overlapping  # no handler ran twice at the same time
    assert duplicated <= 8  # bounded by what was in flight (4 workers + prefetch)
    producer.close()
