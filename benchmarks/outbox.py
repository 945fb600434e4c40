"""The transactional outbox: relay throughput and commit → visible latency.

``python -m benchmarks.outbox [--rows 50000] [--samples 600] [--docs] [--redis-server PATH]``
starts its own ``redis-server`` and PostgreSQL (Debian's binaries, as in the tests:
tests/pgserver.py) on free 127.0.0.1 ports, then measures:

- **relay throughput**: ``--rows`` committed rows (100 B bodies, one queue) relayed by
  one ``Relay.drain()`` in one process, PostgreSQL → Redis, at ``BATCH_SIZE`` 100, 500
  and 1000 (median of 3 runs each; each run refills the table);
- **commit → visible latency**: a message written in a transaction, stamped with
  ``CLOCK_MONOTONIC`` just before the commit, until a consumer process long-polling
  the (realtime) queue receives it: through the outbox (a relay in its own process,
  woken by the commit hook's publish; ``POLL_INTERVAL`` 1 s) beside plain
  ``send_on_commit`` in the same run. ``--samples`` messages per side, 10 ms apart, in
  alternating chunks of 100; p99 is the ``samples/100``-th worst.

Targets (issue 17): relay ≥ 5,000 rows/s; p50 commit → visible ≤ 20 ms. ``--docs`` adds the
dated table to docs/benchmarks.md. Never part of the test suite.

``python -m benchmarks`` runs a shorter form of it as its ``outbox`` measurement
(``python -m benchmarks.outbox outbox URL``: 20,000 rows at ``BATCH_SIZE`` 500 beside
``send_many`` of the same pre-serialized batches straight from memory, 300 latency
samples per side beside ``send_on_commit``), on the suite's Redis; without PostgreSQL
binaries it reports the measurement skipped.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
MARKER = "<!-- outbox results: newest first (python -m benchmarks.outbox --docs adds one) -->"
NAMESPACE = "bench-outbox"
BODY = "x" * 100
CHUNK = 100

# python -m benchmarks rows: (label, measurement, key, unit, higher is better, target ratio)
ROWS: list[tuple[str, str, str | None, str, bool, float | None]] = [
    (
        "outbox relay PostgreSQL → Redis, BATCH_SIZE 500 vs send_many(500) from memory",
        "outbox",
        "relay",
        "rows/s",
        True,
        None,
    ),
    ("outbox commit → visible p50 vs send_on_commit", "outbox", "p50", "ms", False, None),
    ("outbox commit → visible p99 vs send_on_commit", "outbox", "p99", "ms", False, None),
]


def configure(redis_url: str, pg: dict[str, Any]) -> None:
    """Django settings for this benchmark (in every process of it)."""
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django_rsmq"],
        DATABASES={"default": pg},
        USE_TZ=True,
        LOGGING_CONFIG=None,
        RSMQ={
            "CONNECTIONS": {"default": redis_url},
            "NAMESPACE": NAMESPACE,
            "QUEUES": {
                "obx": {"OUTBOX": True, "REALTIME": True},
                "plain": {"REALTIME": True},
                "bulk": {"MAX_SIZE": -1},
            },
            "OUTBOX": {"POLL_INTERVAL": 1.0},
        },
    )
    django.setup()


def throughput(rows: int, batch: int) -> float:
    from django.db import connection, transaction

    from django_rsmq.connections import get_rsmq
    from django_rsmq.operations.queues import ensure_queue
    from django_rsmq.outbox.model import OutboxMessage
    from django_rsmq.outbox.relay import Relay

    mq = get_rsmq()
    with transaction.atomic():
        OutboxMessage.objects.bulk_create(
            [OutboxMessage(queue="bulk", body=BODY, dedup_id=f"b:{i}") for i in range(rows)],
            batch_size=5000,
        )
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE django_rsmq_outbox")
    ensure_queue("bulk")
    relay = Relay(batch_size=batch)
    started = time.perf_counter()
    done = relay.drain()
    elapsed = time.perf_counter() - started
    assert done == rows, (done, rows)
    mq.delete_queue("bulk")  # and its dedup ids: the next run's ids are the same
    return rows / elapsed


def _relay_process(redis_url: str, pg: dict[str, Any], ready: Any, stop: Any) -> None:
    configure(redis_url, pg)
    import threading

    from django_rsmq.outbox.relay import Relay

    relay = Relay()
    t = threading.Thread(target=relay.run, daemon=True)
    t.start()
    ready.set()
    stop.wait()
    relay.stop()
    t.join(10)


def _consumer_process(redis_url: str, queue: str, n: int, out: Any, ready: Any) -> None:
    from django_rsmq.engine import RSMQ

    mq = RSMQ(redis_url, namespace=NAMESPACE, realtime=[queue])
    mq.receive(queue, wait=0.01)  # subscribed before the first message
    ready.set()
    lat: list[float] = []
    while len(lat) < n:
        m = mq.receive(queue, wait=10)
        if m is None:
            break
        lat.append((time.monotonic() - float(m.body["t"])) * 1000)
        mq.ack(m.receipt)
    out.send(lat)


def latency(redis_url: str, pg: dict[str, Any], samples: int) -> dict[str, dict[str, float]]:
    from django.db import transaction

    from django_rsmq import outbox, send_on_commit
    from django_rsmq.operations.queues import ensure_queue

    ctx = multiprocessing.get_context("spawn")
    for q in ("obx", "plain"):
        ensure_queue(q)
    stop, relay_ready = ctx.Event(), ctx.Event()
    relay = ctx.Process(target=_relay_process, args=(redis_url, pg, relay_ready, stop))
    relay.start()
    relay_ready.wait(60)
    time.sleep(0.5)  # its first round and subscription
    results: dict[str, list[float]] = {"outbox": [], "send_on_commit": []}
    try:
        for chunk in range(samples // CHUNK * 2):
            side = "outbox" if chunk % 2 == 0 else "send_on_commit"
            queue = "obx" if side == "outbox" else "plain"
            recv, send_end = ctx.Pipe(duplex=False)
            ready = ctx.Event()
            consumer = ctx.Process(
                target=_consumer_process, args=(redis_url, queue, CHUNK, send_end, ready)
            )
            consumer.start()
            ready.wait(30)
            for _ in range(CHUNK):
                with transaction.atomic():
                    body = {"t": repr(time.monotonic()), "pad": BODY}
                    if side == "outbox":
                        outbox.send(queue, body)
                    else:
                        send_on_commit(queue, body)
                time.sleep(0.01)
            results[side] += recv.recv()
            consumer.join(30)
    finally:
        stop.set()
        relay.join(30)
    out = {}
    for side, lat in results.items():
        lat.sort()
        k = max(1, len(lat) // 100)
        out[side] = {"p50": statistics.median(lat), "p99": lat[-k], "n": len(lat)}
    return out


def floor_throughput(rows: int, batch: int) -> float:
    """``send_many`` of ``batch`` pre-serialized bodies with dedup ids, from memory: the
    Redis side of a relay round without the database."""
    from django_rsmq.connections import get_rsmq
    from django_rsmq.engine.protocol import Entry
    from django_rsmq.engine.serializers import TextSerializer
    from django_rsmq.operations.queues import ensure_queue

    mq = get_rsmq()
    ensure_queue("bulk")
    raw = TextSerializer()
    started = time.perf_counter()
    for start in range(0, rows, batch):
        entries = [Entry(BODY, dedup_id=f"f:{i}") for i in range(start, start + batch)]
        mq.send_many("bulk", entries, serializer=raw)
    elapsed = time.perf_counter() - started
    mq.delete_queue("bulk")
    return rows / elapsed


def suite_measurement(url: str) -> dict[str, Any]:
    """The ``outbox`` row set of ``python -m benchmarks`` (one JSON line)."""
    sys.path.insert(0, str(ROOT))
    from tests.pgserver import PostgresNotFound, postgres_server

    try:
        with postgres_server() as pg:
            configure(url, pg)
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            relay = statistics.median(throughput(20_000, 500) for _ in range(3))
            floor = statistics.median(floor_throughput(20_000, 500) for _ in range(3))
            lat = latency(url, pg, 300)
    except PostgresNotFound as exc:
        return {"skipped": str(exc)}
    soc = lat["send_on_commit"]
    return {
        "ours": {"relay": relay, "p50": lat["outbox"]["p50"], "p99": lat["outbox"]["p99"]},
        "floor": {"relay": floor, "p50": soc["p50"], "p99": soc["p99"]},
    }


def table(tp: dict[int, float], lat: dict[str, dict[str, float]]) -> str:
    lines = [
        "| measurement | result | target | met |",
        "|---|---:|---|---|",
    ]
    for batch, rate in tp.items():
        met = "yes" if rate >= 5000 else "**no**"
        target = ">= 5,000 rows/s" if batch == 500 else ""
        lines.append(
            f"| relay PostgreSQL → Redis, BATCH_SIZE {batch} | {rate:,.0f} rows/s | {target} "
            f"| {met if target else ''} |"
        )
    for side, label in (("outbox", "outbox (wake-up)"), ("send_on_commit", "send_on_commit")):
        p50, p99 = lat[side]["p50"], lat[side]["p99"]
        target = "p50 <= 20 ms" if side == "outbox" else "(reference)"
        met = ("yes" if p50 <= 20 else "**no**") if side == "outbox" else ""
        lines.append(f"| commit → visible p50, {label} | {p50:.2f} ms | {target} | {met} |")
        lines.append(f"| commit → visible p99, {label} | {p99:.2f} ms | | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.outbox", description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=600)
    parser.add_argument("--docs", action="store_true")
    parser.add_argument("--redis-server", default=None)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from django_rsmq.engine.server import RedisServer
    from tests.pgserver import postgres_server

    load = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="rsmq-bench-") as tmp, postgres_server() as pg:
        server = RedisServer(Path(tmp), binary=args.redis_server)
        server.start()
        try:
            configure(server.url, pg)
            from django.core.management import call_command
            from django.db import connection

            call_command("migrate", verbosity=0)
            redis_version = server.client().info("server")["redis_version"]
            pg_version = connection.cursor().connection.info.server_version
            tp: dict[int, float] = {}
            for batch in (100, 500, 1000):
                print(f"… relay throughput, batch {batch}", file=sys.stderr, flush=True)
                tp[batch] = statistics.median(throughput(args.rows, batch) for _ in range(3))
            print("… commit → visible latency", file=sys.stderr, flush=True)
            lat = latency(server.url, pg, args.samples)
        finally:
            server.stop()
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    env = (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), Redis "
        f"{redis_version}, PostgreSQL {pg_version // 10000}.{pg_version % 10000}, Python "
        f"{platform.python_version()}, load average before the run {load}; {args.rows:,} "
        f"rows per throughput run, {lat['outbox']['n']} latency samples per side; Redis, "
        "PostgreSQL (fsync off) and every process on the same machine."
    )
    text = table(tp, lat)
    print(f"\n{when} · {env}\n\n{text}")
    if args.docs:
        doc = DOCS.read_text(encoding="utf-8")
        if MARKER not in doc:
            raise SystemExit(f"{DOCS} has no outbox results marker line")
        entry = f"{MARKER}\n\n#### {when} · outbox\n\n{env}\n\n{text}\n"
        DOCS.write_text(doc.replace(MARKER, entry, 1), encoding="utf-8")
        print(f"table added to {DOCS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["outbox"]:  # python -m benchmarks.outbox outbox URL (the suite)
        import json

        print(json.dumps(suite_measurement(sys.argv[2])))
        raise SystemExit(0)
    raise SystemExit(main())
