"""The consumer's rows: ``Consumer`` with a no-op ``@handler`` beside the raw floor.

``python -m benchmarks.consumer [consumer|consumer_latency] URL [--profile]`` prints one
JSON object (run by ``python -m benchmarks`` as the ``consumer`` and
``consumer_latency`` measurements; ``--profile`` prints a yappi profile of one run to
stderr instead, concurrency ``$BENCH_PROFILE_CONCURRENCY`` (default 4), yappi
installed).

``consumer``: each row fills the queue, runs a :class:`~django_rsmq.consumer.Consumer`
in this process (concurrency 1, 4 and 16) until every message was handled, and reports
messages per second between the 1,000th and the last processed message (start-up
excluded). The floors run in the same process right before: the reliable-list
``BLMOVE`` + ``LREM`` loop (one message per two round trips, what an unbatched consumer
is bound by) and the pipelined ``LMOVE``/``LREM`` x100 (what a batching one can
approach). Two more rows: concurrency 1 with batching off (``prefetch`` 0,
``ACK_INTERVAL`` 0) against the engine's own ``receive()`` + ``ack()`` loop, in 7
alternating pairs (the ratio is the median pair's); and ``rsmq_consume --processes 4``
(consumer/prefork.py, 4 spawned children of concurrency 4, ``--burst``), timed from the
parent by watching the queue drain.

``consumer_latency``: send -> handler start. A producer process sends 1,000 messages
stamped with ``CLOCK_MONOTONIC``, 10 ms apart, to a realtime queue an idle consumer
(concurrency 1, defaults) long-polls; its handler takes the difference on entry. The
floor is measure.py's ``LPUSH`` -> idle ``BLMOVE``; 4 alternating chunks of 250.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
from typing import Any

import django
from django.conf import settings
from django.test import override_settings

from . import measure
from .measure import BODY_100, LIST, PROCESSING

# (label, measurement, key, unit, higher is better, target ratio): see run.py
ROWS: list[tuple[str, str, str | None, str, bool, float | None]] = [
    ("Consumer no-op, concurrency 1 vs BLMOVE + LREM", "consumer", "c1", "msg/s", True, None),
    ("Consumer no-op, concurrency 4 vs BLMOVE + LREM", "consumer", "c4", "msg/s", True, None),
    ("Consumer no-op, concurrency 16 vs BLMOVE + LREM", "consumer", "c16", "msg/s", True, None),
    (
        "Consumer no-op, concurrency 16 vs pipelined LMOVE/LREM x100",
        "consumer",
        "c16_batch",
        "msg/s",
        True,
        0.5,
    ),
    (
        "Consumer no-op, concurrency 1, batching off (prefetch 0, ACK_INTERVAL 0) "
        "vs the engine's receive + ack loop",
        "consumer",
        "c1_unbatched",
        "msg/s",
        True,
        0.9,
    ),
    (
        "Consumer no-op, --processes 4 (prefork) x concurrency 4 vs pipelined LMOVE/LREM x100",
        "consumer",
        "prefork4",
        "msg/s",
        True,
        None,
    ),
    (
        "Consumer latency p50, send -> handler start vs LPUSH -> idle BLMOVE",
        "consumer_latency",
        "p50",
        "ms",
        False,
        2.0,
    ),
    (
        "Consumer latency p99, send -> handler start vs LPUSH -> idle BLMOVE",
        "consumer_latency",
        "p99",
        "ms",
        False,
        3.0,
    ),
]

QUEUE = "bench"
N = 30_000
SKIP = 1_000  # start-up: the rate counts from the SKIP-th processed message
PAIRS = 7  # batching-off row: alternating pairs (consumer, engine loop) of PAIR_N each
PAIR_N = 4_000


def _rsmq(url: str, realtime: bool = False, **consumer: Any) -> dict[str, Any]:
    queue: dict[str, Any] = {"VISIBILITY_TIMEOUT": 60}
    if realtime:
        queue["REALTIME"] = True
    return {
        "CONNECTIONS": {"default": {"URL": url}},
        "NAMESPACE": "bench",
        "QUEUES": {QUEUE: queue},
        "CONSUMER": {"WAIT": 0.2, "PROGRESS_INTERVAL": 3600, **consumer},
    }


def _noop(message: Any) -> None:
    pass


def _configure(url: str) -> None:
    settings.configure(INSTALLED_APPS=["django_rsmq"], DATABASES={}, RSMQ=_rsmq(url))
    django.setup()
    _handle_with(_noop)


def _handle_with(func: Any) -> None:
    from django_rsmq.handlers import registry

    registry.unregister(QUEUE)
    registry.register(QUEUE, func)


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


def _consume(
    concurrency: int, total: int, profile: bool = False, prefetch: int | None = None
) -> float:
    from django_rsmq.consumer import Consumer

    clock = _Clock(total)
    consumer = Consumer(
        [QUEUE],
        concurrency=concurrency,
        prefetch=prefetch,
        max_messages=total,
        verbosity=0,
        hooks=[clock.hook],
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


def _engine_loop(total: int) -> float:
    """The engine's own receive() + ack() per message, on the consumer's connection."""
    from django_rsmq.connections import get_rsmq

    mq = get_rsmq()
    start = 0.0
    for i in range(total):
        if i == SKIP:
            start = time.perf_counter()
        message = mq.receive(QUEUE)
        assert message is not None
        mq.ack(message)
    return (total - SKIP) / (time.perf_counter() - start)


def unbatched(url: str) -> dict[str, float]:
    """Concurrency 1, prefetch 0, ACK_INTERVAL 0 vs the engine loop, PAIRS pairs."""
    pairs: list[tuple[float, float]] = []
    with override_settings(RSMQ=_rsmq(url, ACK_INTERVAL=0)):
        for i in range(PAIRS):
            got: dict[str, float] = {}
            for side in ("ours", "floor") if i % 2 == 0 else ("floor", "ours"):
                _fill(url, PAIR_N)
                got[side] = (
                    _consume(1, PAIR_N, prefetch=0) if side == "ours" else _engine_loop(PAIR_N)
                )
            pairs.append((got["ours"], got["floor"]))
    ratios = sorted(o / f for o, f in pairs)
    return {
        "ours": statistics.median(o for o, _ in pairs),
        "floor": statistics.median(f for _, f in pairs),
        "ratio": statistics.median(ratios),
    }


def prefork_rate(url: str, processes: int, concurrency: int, total: int) -> float:
    """``rsmq_consume --processes N --burst`` (consumer/prefork.py) on ``total``
    messages: the rate while the queue drains from ``total - processes * SKIP`` to 0, as
    the parent sees it (the children's start-up excluded)."""
    from django_rsmq.connections import get_rsmq
    from django_rsmq.consumer.prefork import prefork

    _fill(url, total)
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.consumer_settings"
    os.environ["BENCH_REDIS_URL"] = url
    mq = get_rsmq()
    marks: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            left = mq.get_queue_attributes(QUEUE).msgs
            now = time.perf_counter()
            if "first" not in marks and left <= total - processes * SKIP:
                marks["first"], marks["left"] = now, left
            if left == 0:
                marks["last"] = now
                return
            time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    options = {
        "queues": [QUEUE],
        "exclude": [],
        "concurrency": concurrency,
        "prefetch": None,
        "burst": True,
        "max_messages": None,
        "max_idle_time": None,
        "shutdown_timeout": 30.0,
        "name": None,
        "verbosity": 0,
    }
    code = prefork(options, processes, lambda line: None)
    done.set()
    watcher.join(5)
    if code != 0 or "last" not in marks:
        raise RuntimeError(f"prefork run failed: exit code {code}, {marks}")
    return marks["left"] / (marks["last"] - marks["first"])


def _consumer_latencies(url: str, samples: int) -> list[float]:
    from django_rsmq.connections import get_rsmq
    from django_rsmq.consumer import Consumer

    out: list[float] = []
    enough = threading.Event()

    def stamp(message: Any) -> None:  # the handler's start
        out.append(time.monotonic() - float(message.raw))
        if len(out) >= samples:
            enough.set()

    _handle_with(stamp)
    mq = get_rsmq()
    mq.client.flushall()
    mq.create_queue(QUEUE, vt=60)
    consumer = Consumer([QUEUE], verbosity=0, wait=1.0)
    codes: list[int] = []
    runner = threading.Thread(target=lambda: codes.append(consumer.run()), daemon=True)
    runner.start()
    ctx = multiprocessing.get_context("spawn")
    producer = ctx.Process(target=measure._producer, args=(url, "ours", samples))
    producer.start()
    if not enough.wait(120):
        raise RuntimeError(f"only {len(out)} of {samples} messages handled in 120 s")
    producer.join(10)
    consumer.request_stop()
    runner.join(30)
    _handle_with(_noop)
    return out[:samples]


def latency(url: str) -> dict[str, Any]:
    per = measure.SAMPLES // measure.LATENCY_ROUNDS
    samples: dict[str, list[float]] = {"ours": [], "floor": []}
    with override_settings(RSMQ=_rsmq(url, realtime=True)):
        for _ in range(measure.LATENCY_ROUNDS):
            samples["ours"] += _consumer_latencies(url, per)
            samples["floor"] += measure._latencies(url, "floor", per)
    result: dict[str, Any] = {}
    for kind, values in samples.items():
        ms = sorted(x * 1000 for x in values)
        result[kind] = {
            "p50": statistics.median(ms),
            "p99": ms[int(len(ms) * 0.99) - 1],
            "samples": len(ms),
        }
    return result


def main(argv: list[str]) -> int:
    profile = "--profile" in argv
    args = [a for a in argv if a != "--profile"]
    name = args[0] if args[0] in ("consumer", "consumer_latency") else "consumer"
    url = args[-1]
    _configure(url)
    if name == "consumer_latency":
        print(json.dumps(latency(url)))
        return 0
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
    ours["prefork4"] = prefork_rate(url, 4, 4, N * 2)
    floor = dict.fromkeys(ours, floors["blmove_lrem"])
    floor |= {"c16_batch": floors["pipelined_100"], "prefork4": floors["pipelined_100"]}
    off = unbatched(url)
    ours["c1_unbatched"], floor["c1_unbatched"] = off["ours"], off["floor"]
    print(json.dumps({"ours": ours, "floor": floor, "ratios": {"c1_unbatched": off["ratio"]}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
