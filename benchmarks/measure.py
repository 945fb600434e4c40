"""One measurement, run in a process of its own: ``python -m benchmarks.measure NAME URL``.

Prints one JSON object. Throughput rows report messages per second over a fixed
duration after a warm-up; every "ours" row has a raw redis-py "floor" row doing the
closest thing plain Redis can do in the same number of round trips.
"""

from __future__ import annotations

import json
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import redis

from django_rsmq.engine import RSMQ
from django_rsmq.engine.fastpath import FastPath

ROUNDS = 10
DURATION = 0.2  # per round and side
WARMUP = 0.1
BODY_100 = "x" * 100
BODY_1K = "x" * 1024
QUEUE, LIST, PROCESSING = "bench", "bench:list", "bench:processing"


def rate(step: Callable[[], int], duration: float = DURATION) -> float:
    """Messages per second: ``step()`` handles some messages and returns how many."""
    done, start = 0, time.perf_counter()
    end = start + duration
    while (now := time.perf_counter()) < end:
        done += step()
    return done / (now - start)


def compare(ours: Callable[[], int], floor: Callable[[], int]) -> dict[str, float]:
    """Ours and the floor in ROUNDS back-to-back pairs (the order alternating between
    pairs); the ratio is the median of the pairs' ratios. A shared VM's speed drifts and
    jumps over seconds: a pair sees nearly the same machine, so its ratio is fair even
    when the rates are not, and the median drops the pairs a jump fell into. The rates
    reported are each side's median."""
    for step in (ours, floor):
        rate(step, WARMUP)
    rates: dict[str, list[float]] = {"ours": [], "floor": []}
    for i in range(ROUNDS):
        pair = [("ours", ours), ("floor", floor)]
        for name, step in pair if i % 2 == 0 else reversed(pair):
            rates[name].append(rate(step))
    ratios = [o / f for o, f in zip(rates["ours"], rates["floor"], strict=True)]
    return {
        "ours": statistics.median(rates["ours"]),
        "floor": statistics.median(rates["floor"]),
        "ratio": statistics.median(ratios),
    }


def setup(url: str) -> tuple[redis.Redis, RSMQ]:
    client = redis.Redis.from_url(url)
    client.flushall()
    mq = RSMQ(client, namespace="bench")
    mq.create_queue(QUEUE, vt=3600)
    return client, mq


def fill(mq: RSMQ, client: redis.Redis, n: int) -> None:
    for i in range(0, n, 1000):
        mq.send_many(QUEUE, [BODY_100] * min(1000, n - i))
        pipe = client.pipeline(transaction=False)
        for _ in range(min(1000, n - i)):
            pipe.lpush(LIST, BODY_100)
        pipe.execute()


# -- throughput ---------------------------------------------------------------------------


def send(url: str, size: int) -> dict[str, float]:
    client, mq = setup(url)
    body = BODY_100 if size == 100 else BODY_1K

    def ours() -> int:
        mq.send(QUEUE, body)
        return 1

    def floor() -> int:
        client.lpush(LIST, body)
        return 1

    return compare(ours, floor)


def _pack(*parts: str | bytes) -> bytes:
    """A command packed the way the engine's fast path packs its EVALSHA."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def send_fastpath_floor(url: str) -> dict[str, float]:
    """Reference, no target: send vs an LPUSH sent the way the engine sends its scripts
    (packed by us, on a kept connection), i.e. the transport without redis-py's
    per-command overhead. Shows what the script itself costs."""
    client, mq = setup(url)
    fast = FastPath(client.connection_pool)

    def ours() -> int:
        mq.send(QUEUE, BODY_100)
        return 1

    def floor() -> int:
        fast.execute(_pack("LPUSH", LIST, BODY_100))
        return 1

    return compare(ours, floor)


def send_many(url: str) -> dict[str, float]:
    client, mq = setup(url)
    batch = [BODY_100] * 100

    def ours() -> int:
        mq.send_many(QUEUE, batch)
        return 100

    def floor() -> int:
        pipe = client.pipeline(transaction=False)
        for body in batch:
            pipe.lpush(LIST, body)
        pipe.execute()
        return 100

    return compare(ours, floor)


def receive_ack(url: str) -> dict[str, float]:
    client, mq = setup(url)
    fill(mq, client, 100_000)

    def ours() -> int:
        msg = mq.receive(QUEUE)
        assert msg is not None
        mq.ack(msg)
        return 1

    def floor() -> int:  # the reliable-list pattern
        body = client.blmove(LIST, PROCESSING, 1, "RIGHT", "LEFT")
        assert body is not None
        client.lrem(PROCESSING, 1, body)
        return 1

    return compare(ours, floor)


def receive_wait(url: str) -> dict[str, float]:
    """What ``wait=`` costs when a message is waiting (nothing to wait for): the long
    poll's fast case against the plain receive, both with their ack."""
    client, mq = setup(url)
    fill(mq, client, 100_000)

    def ours() -> int:
        msg = mq.receive(QUEUE, wait=1.0)
        assert msg is not None
        mq.ack(msg)
        return 1

    def floor() -> int:
        msg = mq.receive(QUEUE)
        assert msg is not None
        mq.ack(msg)
        return 1

    return compare(ours, floor)


def receive_many_ack_many(url: str) -> dict[str, float]:
    client, mq = setup(url)
    fill(mq, client, 400_000)

    def ours() -> int:
        got = mq.receive_many(QUEUE, 100)
        mq.ack_many(got)
        return len(got)

    def floor() -> int:
        pipe = client.pipeline(transaction=False)
        for _ in range(100):
            pipe.lmove(LIST, PROCESSING, "RIGHT", "LEFT")
        bodies = pipe.execute()
        pipe = client.pipeline(transaction=False)
        for body in bodies:
            pipe.lrem(PROCESSING, 1, body)
        pipe.execute()
        return len(bodies)

    return compare(ours, floor)


def pop(url: str) -> dict[str, float]:
    client, mq = setup(url)
    fill(mq, client, 100_000)

    def ours() -> int:
        assert mq.pop(QUEUE) is not None
        return 1

    def floor() -> int:
        assert client.rpop(LIST) is not None
        return 1

    return compare(ours, floor)


# -- latency --------------------------------------------------------------------------------

SAMPLES = 1000  # per side: p99 is then the 10th-worst sample, not the 3rd
LATENCY_ROUNDS = 4
GAP = 0.01


def _producer(url: str, kind: str, samples: int) -> None:
    client = redis.Redis.from_url(url)
    mq = RSMQ(client, namespace="bench", realtime=True)
    time.sleep(0.3)  # let the consumer start waiting
    for _ in range(samples):
        stamp = repr(time.monotonic())  # CLOCK_MONOTONIC: the same clock in both processes
        if kind == "ours":
            mq.send(QUEUE, stamp)
        else:
            client.lpush(LIST, stamp)
        time.sleep(GAP)  # the consumer is idle (waiting) again before the next send


def _latencies(url: str, kind: str, samples: int) -> list[float]:
    client = redis.Redis.from_url(url)
    mq = RSMQ(client, namespace="bench", realtime=True)
    ctx = multiprocessing.get_context("spawn")
    producer = ctx.Process(target=_producer, args=(url, kind, samples))
    producer.start()
    out = []
    while len(out) < samples:
        if kind == "ours":
            msg = mq.receive(QUEUE, wait=10)
            assert msg is not None, "no message within 10 s"
            out.append(time.monotonic() - float(msg.raw))
            mq.ack(msg)
        else:
            body = client.blmove(LIST, PROCESSING, 10, "RIGHT", "LEFT")
            assert body is not None, "no message within 10 s"
            out.append(time.monotonic() - float(body))
            client.lrem(PROCESSING, 1, body)
    producer.join(10)
    mq.close()
    return out


def latency(url: str) -> dict[str, Any]:
    """SAMPLES per side in LATENCY_ROUNDS alternating chunks (ours, floor, ours, ...), so
    a noisy spell of a shared machine hits both sides, not only the one running then."""
    setup(url)
    samples: dict[str, list[float]] = {"ours": [], "floor": []}
    for _ in range(LATENCY_ROUNDS):
        for kind in ("ours", "floor"):
            samples[kind] += _latencies(url, kind, SAMPLES // LATENCY_ROUNDS)
    result: dict[str, Any] = {}
    for kind, values in samples.items():
        ms = sorted(x * 1000 for x in values)
        result[kind] = {
            "p50": statistics.median(ms),
            "p99": ms[int(len(ms) * 0.99) - 1],
            "samples": len(ms),
        }
    return result


# -- server time ---------------------------------------------------------------------------

CALLS = 3000


def _usec_per_call(client: redis.Redis, command: str, step: Callable[[], object]) -> float:
    """Redis' own time per call of ``command`` (``INFO commandstats``) over CALLS steps:
    for a script, its whole run including the commands it calls."""
    client.config_resetstat()
    for _ in range(CALLS):
        step()
    stats = client.info("commandstats")[f"cmdstat_{command}"]
    return float(stats["usec_per_call"])


def server(url: str) -> dict[str, dict[str, float]]:
    """Time spent inside Redis per operation: our script vs the floor's native command."""
    client, mq = setup(url)
    fill(mq, client, 2 * CALLS)
    got: list[Any] = []
    ours = {
        "send": _usec_per_call(client, "evalsha", lambda: mq.send(QUEUE, BODY_100)),
        "receive": _usec_per_call(client, "evalsha", lambda: got.append(mq.receive(QUEUE))),
        "ack": _usec_per_call(client, "evalsha", lambda: mq.ack(got.pop())),
        "pop": _usec_per_call(client, "evalsha", lambda: mq.pop(QUEUE)),
    }
    floor = {
        "send": _usec_per_call(client, "lpush", lambda: client.lpush(LIST, BODY_100)),
        "receive": _usec_per_call(
            client, "blmove", lambda: client.blmove(LIST, PROCESSING, 1, "RIGHT", "LEFT")
        ),
        "ack": _usec_per_call(client, "lrem", lambda: client.lrem(PROCESSING, 1, BODY_100)),
        "pop": _usec_per_call(client, "rpop", lambda: client.rpop(LIST)),
    }
    return {"ours": ours, "floor": floor}


# -- memory ---------------------------------------------------------------------------------


def memory(url: str) -> dict[str, float]:
    n = 10_000
    client, mq = setup(url)
    client.delete(LIST)
    base = int(client.info("memory")["used_memory"])
    for _ in range(n // 1000):
        mq.send_many(QUEUE, [BODY_1K] * 1000)
    ours = int(client.info("memory")["used_memory"]) - base
    client.flushall()
    base = int(client.info("memory")["used_memory"])
    for _ in range(n // 1000):
        pipe = client.pipeline(transaction=False)
        for _ in range(1000):
            pipe.lpush(LIST, BODY_1K)
        pipe.execute()
    floor = int(client.info("memory")["used_memory"]) - base
    return {"ours": ours / n, "floor": floor / n}


MEASUREMENTS: dict[str, Callable[[str], dict[str, Any]]] = {
    "send_100b": lambda url: send(url, 100),
    "send_1kb": lambda url: send(url, 1024),
    "send_100b_fastpath_floor": send_fastpath_floor,
    "send_many_100": send_many,
    "receive_ack": receive_ack,
    "receive_wait": receive_wait,
    "receive_many_ack_many_100": receive_many_ack_many,
    "pop": pop,
    "latency": latency,
    "memory": memory,
    "server": server,
}


def main(argv: list[str]) -> int:
    name, url = argv
    print(json.dumps(MEASUREMENTS[name](url)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
