"""The consumer's rows: ``Consumer`` with a no-op ``@handler`` beside the raw floor.

``python -m benchmarks.consumer [consumer] URL [--profile]`` prints one JSON object
(run by ``python -m benchmarks`` as the ``consumer`` measurement; ``--profile``
prints a yappi profile of a concurrency-4 run to stderr instead, yappi installed).
Each row fills the queue, runs a :class:`~django_rsmq.consumer.Consumer` in this
process (concurrency 1, 4 and 16) or in 4 processes until every message was
handled, and reports messages per second between the 1,000th and the last processed
message (start-up excluded). The floors run in the same process right before: the
reliable-list ``BLMOVE`` + ``LREM`` loop (one message per two round trips, what an
unbatched consumer is bound by) and the pipelined ``LMOVE``/``LREM`` x100 (what a
batching one can approach).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import threading
import time
from typing import Any

import django
from django.conf import settings

from .measure import BODY_100, LIST, PROCESSING

# (label, measurement, key, unit, higher is better, target ratio): see run.py
ROWS: list[tuple[str, str, str | None, str, bool, float | None]] = [
    ("Consumer no-op, concurrency 1 vs BLMOVE + LREM", "consumer", "c1", "msg/s", True, None),
    ("Consumer no-op, concurrency 4 vs BLMOVE + LREM", "consumer", "c4", "msg/s", True, None),
    ("Consumer no-op, concurrency 16 vs BLMOVE + LREM", "consumer", "c16", "msg/s", True, None),
    ("Consumer no-op, 4 processes x 4 vs BLMOVE + LREM", "consumer", "p4", "msg/s", True, None),
    (
        "Consumer no-op, concurrency 16 vs pipelined LMOVE/LREM x100",
        "consumer",
        "c16_batch",
        "msg/s",
        True,
        0.5,
    ),
]

QUEUE = "bench"
N = 30_000
SKIP = 1_000  # start-up: the rate counts from the SKIP-th processed message


def _configure(url: str, prefetch: int | None = None) -> None:
    consumer: dict[str, Any] = {"WAIT": 0.2, "PROGRESS_INTERVAL": 3600}
    if prefetch is not None:
        consumer["PREFETCH"] = prefetch
    settings.configure(
        INSTALLED_APPS=["django_rsmq"],
        DATABASES={},
        RSMQ={
            "CONNECTIONS": {"default": {"URL": url}},
            "NAMESPACE": "bench",
            "QUEUES": {QUEUE: {"VISIBILITY_TIMEOUT": 60}},
            "CONSUMER": consumer,
        },
    )
    django.setup()
    from django_rsmq.handlers import registry

    registry.register(QUEUE, lambda message: None)


def _fill(url: str, n: int) -> None:
    from django_rsmq.connections import get_rsmq

    mq = get_rsmq()
    mq.client.flushall()
    mq.create_queue(QUEUE, vt=60)
    for i in range(0, n, 1000):
        mq.send_many(QUEUE, [BODY_100] * min(1000, n - i))


def _floors(url: str, n: int = 20_000) -> dict[str, float]:
    import redis

    client = redis.Redis.from_url(url)
    client.delete(LIST, PROCESSING)
    for _ in range(0, n, 1000):
        client.lpush(LIST, *([BODY_100] * 1000))
    start = time.perf_counter()
    for _ in range(n // 2):
        body = client.blmove(LIST, PROCESSING, 1, "RIGHT", "LEFT")
        client.lrem(PROCESSING, 1, body)  # type: ignore[arg-type]
    single = (n // 2) / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(n // 2 // 100):
        pipe = client.pipeline(transaction=False)
        for _ in range(100):
            pipe.lmove(LIST, PROCESSING, "RIGHT", "LEFT")
        bodies = pipe.execute()
        pipe = client.pipeline(transaction=False)
        for body in bodies:
            pipe.lrem(PROCESSING, 1, body)
        pipe.execute()
    batch = (n // 2) / (time.perf_counter() - start)
    client.close()
    return {"blmove_lrem": single, "pipelined_100": batch}


class _Clock:
    """A hook: times the SKIP-th and the last processed message."""

    def __init__(self, total: int) -> None:
        from django_rsmq.consumer import Hooks

        self.total = total
        self.count = 0
        self.lock = threading.Lock()
        self.first = self.last = 0.0
        outer = self

        class Hook(Hooks):
            def processed(self, message: Any, duration: float) -> None:
                with outer.lock:
                    outer.count += 1
                    if outer.count == SKIP:
                        outer.first = time.perf_counter()
                    elif outer.count == outer.total:
                        outer.last = time.perf_counter()

        self.hook = Hook()

    def rate(self) -> float:
        return (self.total - SKIP) / (self.last - self.first)


def _consume(concurrency: int, total: int, profile: bool = False) -> float:
    from django_rsmq.consumer import Consumer

    clock = _Clock(total)
    consumer = Consumer(
        [QUEUE], concurrency=concurrency, max_messages=total, verbosity=0, hooks=[clock.hook]
    )
    if profile:
        import yappi  # type: ignore[import-not-found]

        yappi.set_clock_type("cpu")
        yappi.start(builtins=False)
        consumer.run()
        yappi.stop()
        stats = yappi.get_func_stats()
        stats.sort("tsub")
        stats.print_all(
            out=sys.stderr,
            columns={0: ("name", 60), 1: ("ncall", 10), 2: ("tsub", 8), 3: ("ttot", 8)},
        )
    else:
        consumer.run()
    return clock.rate()


def _child(url: str, concurrency: int, total: int, out: Any) -> None:
    from django_rsmq.consumer import Consumer

    _configure(url)
    clock = _Clock(total)
    Consumer(
        [QUEUE], concurrency=concurrency, max_messages=total, verbosity=0, hooks=[clock.hook]
    ).run()
    out.put((clock.first, clock.last))


def processes(url: str, n_proc: int, concurrency: int, total: int) -> float:
    """``n_proc`` consumer processes on one queue: messages handled by all of them from
    the first one's SKIP-th to the last one's last (one clock: CLOCK_MONOTONIC)."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    per = total // n_proc
    procs = [ctx.Process(target=_child, args=(url, concurrency, per, out)) for _ in range(n_proc)]
    for p in procs:
        p.start()
    spans = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join()
    first, last = min(s[0] for s in spans), max(s[1] for s in spans)
    return (n_proc * (per - SKIP)) / (last - first)


def main(argv: list[str]) -> int:
    profile = "--profile" in argv
    url = next(a for a in argv if a not in ("consumer", "--profile"))
    _configure(url)
    floors = _floors(url)
    if profile:
        _fill(url, N)
        c = int(os.environ.get("BENCH_PROFILE_CONCURRENCY", "4"))
        print(json.dumps({f"profiled_c{c}": _consume(c, N, profile=True), "floor": floors}))
        return 0
    ours: dict[str, float] = {}
    for c in (1, 4, 16):
        _fill(url, N)
        ours[f"c{c}"] = _consume(c, N)
    ours["c16_batch"] = ours["c16"]
    _fill(url, N * 2)
    ours["p4"] = processes(url, 4, 4, N * 2)
    floor = dict.fromkeys(ours, floors["blmove_lrem"]) | {"c16_batch": floors["pipelined_100"]}
    print(json.dumps({"ours": ours, "floor": floor}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
