"""Does Redis time per call stay flat as a queue grows? The scaling table.

``python -m benchmarks.scaling [--million] [--calls 2000] [--docs] [--redis-server PATH]``
starts its own ``redis-server`` on a free 127.0.0.1 port and, for each queue state, fills a
queue (vt 3600 s) in bulk with pipelined ``ZADD``/``HSET`` (RSMQ's layout: body,
``{id}:rc`` and ``{id}:fr`` for messages in flight), then reports ``INFO commandstats``
``usec_per_call`` of ``evalsha`` for send, receive, ack (in that order, so each receive
finds the messages just sent and each ack has a message to settle) and
``get_queue_attributes``: each state is its own queue on the one server, the rounds
(``--rounds``, default 3) go over all of them in turn, the table shows medians. The
states: empty, 100k queued (visible), 100k in flight; with ``--million`` also 1M queued
and 1M in flight (the fill takes about a minute and ~1 GB of RAM). A row is flat when
its slowest state costs at most twice its fastest.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

from django_rsmq.engine import RSMQ, ids
from django_rsmq.engine.keys import Keys
from django_rsmq.engine.server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
MARKER = "<!-- scaling results: newest first (python -m benchmarks.scaling --docs adds one) -->"
NAMESPACE = "bench"
BODY = "x" * 100
CHUNK = 10_000
FLAT = 2.0
OPS = ("send", "receive", "ack", "get_queue_attributes")


def fill(client: redis.Redis, queue: str, count: int, in_flight: bool) -> float:
    """Put ``count`` messages into ``queue`` in bulk; returns the seconds it took.

    Queued messages are visible now; in-flight ones have been received once by
    django-rsmq (rc 1, fr now, an entry in the in-flight index) and stay hidden for an
    hour. Ids are RSMQ ids with increasing time parts. Then the queue hash is settled: a
    Redis hash that outgrows its table is rehashed one bucket per command on it, so a hash
    filled in bulk would be measured mid-rehash (HSET 2-4x slower), which a queue that
    grew through its own traffic is not."""
    start = time.perf_counter()
    q = Keys(NAMESPACE).queue(queue)
    now_ms = int(time.time() * 1000)
    score = now_ms + 3_600_000 if in_flight else now_ms - 1
    base_us = (now_ms - 10_000) * 1000
    done = 0
    while done < count:
        n = min(CHUNK, count - done)
        batch = [ids.time_part(base_us + done + i) + ids.random_suffix() for i in range(n)]
        fields: dict[str, Any] = {}
        for mid in batch:
            fields[mid] = BODY
            if in_flight:
                fields[mid + ":rc"] = 1
                fields[mid + ":fr"] = now_ms
        pipe = client.pipeline(transaction=False)
        pipe.zadd(q.zset, dict.fromkeys(batch, score))
        if in_flight:
            pipe.zadd(q.in_flight, dict.fromkeys(batch, score))
        pipe.hset(q.hash, mapping=fields)
        pipe.hincrby(q.hash, "totalsent", n)
        pipe.execute()
        done += n
    fields_total = count * (3 if in_flight else 1)
    for first in range(0, fields_total, CHUNK):  # each command moves >= 1 bucket
        pipe = client.pipeline(transaction=False)
        for _ in range(min(CHUNK, fields_total - first)):
            pipe.hexists(q.hash, "-")
        pipe.execute()
    return time.perf_counter() - start


def _usec(client: redis.Redis, calls: int, step: Any) -> float:
    client.config_resetstat()
    for _ in range(calls):
        step()
    return float(client.info("commandstats")["cmdstat_evalsha"]["usec_per_call"])


def one_round(client: redis.Redis, mq: RSMQ, queue: str, calls: int) -> dict[str, float]:
    """send, receive (what was just sent), ack (that), get_queue_attributes: the queue is
    left as it was."""
    got: list[Any] = []
    return {
        "send": _usec(client, calls, lambda: mq.send(queue, BODY)),
        "receive": _usec(client, calls, lambda: got.append(mq.receive(queue))),
        "ack": _usec(client, calls, lambda: mq.ack(got.pop())),
        "get_queue_attributes": _usec(
            client, max(1, calls // 10), lambda: mq.get_queue_attributes(queue)
        ),
    }


def measure(url: str, million: bool, calls: int, rounds: int) -> dict[str, dict[str, Any]]:
    """Every state is a queue of its own on one server, filled first; then the rounds go
    over all of them in turn (the machine's speed drifts: each state sees every phase of
    it). Per state and operation: the median of the rounds, and each round's value."""
    client = redis.Redis.from_url(url)
    client.flushall()
    mq = RSMQ(client, namespace=NAMESPACE)
    names = []
    for name, count, in_flight in states(million):
        queue = name.replace(" ", "_")
        mq.create_queue(queue, vt=3600)
        print(f"… fill {name}", file=sys.stderr, flush=True)
        took = fill(client, queue, count, in_flight) if count else 0.0
        print(f"  {took:.1f} s", file=sys.stderr, flush=True)
        attrs = mq.get_queue_attributes(queue)
        want = (0, count, 0) if in_flight else (count, 0, 0)
        assert (attrs.visible, attrs.in_flight, attrs.delayed) == want, attrs
        names.append((name, queue))
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in names}
    for r in range(rounds):
        for name, queue in names if r % 2 == 0 else names[::-1]:
            runs[name].append(one_round(client, mq, queue, calls))
        print(f"… round {r + 1}/{rounds}", file=sys.stderr, flush=True)
    client.close()
    return {
        name: {op: statistics.median(run[op] for run in runs[name]) for op in OPS}
        | {"rounds": runs[name]}
        for name, _ in names
    }


def states(million: bool) -> list[tuple[str, int, bool]]:
    out = [("empty", 0, False), ("100k queued", 100_000, False)]
    if million:
        out.append(("1M queued", 1_000_000, False))
    out.append(("100k in flight", 100_000, True))
    if million:
        out.append(("1M in flight", 1_000_000, True))
    return out


def table(results: dict[str, dict[str, Any]]) -> str:
    names = list(results)
    lines = [
        "| Redis µs per call | " + " | ".join(names) + " | max / min | flat (≤ 2x) |",
        "|---" * (len(names) + 3) + "|",
    ]
    for op in OPS:
        values = [results[n][op] for n in names]
        ratio = max(values) / min(values)
        cells = " | ".join(f"{v:.1f}" for v in values)
        lines.append(f"| {op} | {cells} | {ratio:.2f}x | {'yes' if ratio <= FLAT else 'NO'} |")
    return "\n".join(lines)


def write_docs(when: str, env: str, text: str, note: str) -> None:
    doc = DOCS.read_text()
    block = f"\n\n### {when} · scaling\n\n{env}. {note}\n\n{text}"
    if MARKER not in doc:
        doc = doc.rstrip("\n") + f"\n\n## Scaling with queue size\n\n{MARKER}\n"
    DOCS.write_text(doc.replace(MARKER, MARKER + block, 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--million", action="store_true", help="add the 1M rows (slow fill)")
    parser.add_argument("--calls", type=int, default=2000, help="get_queue_attributes: a tenth")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--docs", action="store_true", help="add the table to docs/benchmarks.md")
    parser.add_argument("--note", default="", help="a remark for the docs entry (machine load)")
    parser.add_argument("--redis-server", default=None, metavar="PATH")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rsmq-scaling-") as tmp:
        server = RedisServer(Path(tmp), binary=args.redis_server)
        server.start()
        try:
            client = server.client()
            version = client.info("server")["redis_version"]
            client.close()
            results = measure(server.url, args.million, args.calls, args.rounds)
        finally:
            server.stop()
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    env = f"Redis {version}, Python {platform.python_version()}, {platform.machine()}"
    text = table(results)
    print(f"\n{when} · {env}\n\n{text}")
    if args.docs:
        write_docs(when, env, text, args.note)
        print(f"table added to {DOCS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
