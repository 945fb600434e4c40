"""Redis-side time of the hot scripts, this checkout's against another revision's.

``python -m benchmarks.lua_time [--against main] [--rounds 3] [--calls 3000]
[--redis-server PATH ...]`` starts its own ``redis-server`` (one per binary given, else
the one on PATH) on a free 127.0.0.1 port and, alternating the two sets of scripts
round by round (the machine is noisy), reports ``INFO commandstats`` ``usec_per_call``
of ``evalsha`` for send, receive, ack, pop, the batches of 100, receive on a
rate-limited queue (a bucket that never runs dry: the limiter's own cost), and receive and
ack on a capped queue (a cap never reached: the cap's own cost). Prints the median
per row and version and each round's value.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from django_rsmq.engine import RSMQ, scripts
from django_rsmq.engine.server import RedisServer

from .scripts_at import load, swapped

QUEUE = "bench"
BODY = "x" * 100
BATCH = 100


def _usec(client: redis.Redis, calls: int, step: Callable[[], object]) -> float:
    client.config_resetstat()
    for _ in range(calls):
        step()
    return float(client.info("commandstats")["cmdstat_evalsha"]["usec_per_call"])


def measure(url: str, calls: int) -> dict[str, float]:
    """usec_per_call of each operation on a fresh queue (vt 3600 s, no settings)."""
    client = redis.Redis.from_url(url)
    client.flushall()
    client.script_flush()
    mq = RSMQ(client, namespace="bench")
    mq.create_queue(QUEUE, vt=3600)
    batch_calls = max(1, calls // 10)
    got: list[Any] = []
    many: list[list[Any]] = []
    out = {
        "send": _usec(client, calls, lambda: mq.send(QUEUE, BODY)),
        "receive": _usec(client, calls, lambda: got.append(mq.receive(QUEUE))),
        "ack": _usec(client, calls, lambda: mq.ack(got.pop())),
    }
    for _ in range(calls // 1000 + 1):
        mq.send_many(QUEUE, [BODY] * 1000)
    out["pop"] = _usec(client, calls, lambda: mq.pop(QUEUE))
    out["send_many(100)"] = _usec(client, batch_calls, lambda: mq.send_many(QUEUE, [BODY] * BATCH))
    out["receive_many(100)"] = _usec(
        client, batch_calls, lambda: many.append(mq.receive_many(QUEUE, BATCH))
    )
    out["ack_many(100)"] = _usec(client, batch_calls, lambda: mq.ack_many(many.pop()))
    # A rate-limited queue whose bucket never runs dry: what the limiter costs a receive.
    limited = "bench-rl"
    mq.create_queue(limited, vt=3600, rate_limit="1000000/s")
    for _ in range(calls // 1000 + 1):
        mq.send_many(limited, [BODY] * 1000)
    out["receive, rate-limited"] = _usec(client, calls, lambda: mq.receive(limited))
    for _ in range(batch_calls // 10 + 1):
        mq.send_many(limited, [BODY] * 1000)
    out["receive_many(100), rate-limited"] = _usec(
        client, batch_calls, lambda: mq.receive_many(limited, BATCH)
    )
    # A capped queue whose cap is never reached: what the cap costs a receive and an ack
    # (a ZCOUNT of the in-flight index, and a PUBLISH of the freed slot).
    capped = "bench-cap"
    mq.create_queue(capped, vt=3600, max_in_flight=1_000_000)
    for _ in range(calls // 1000 + 1):
        mq.send_many(capped, [BODY] * 1000)
    held: list[Any] = []
    out["receive, capped"] = _usec(client, calls, lambda: held.append(mq.receive(capped)))
    out["ack, capped"] = _usec(client, calls, lambda: mq.ack(held.pop()))
    client.close()
    return out


def version(url: str) -> str:
    return str(redis.Redis.from_url(url).info("server")["redis_version"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--against", default="main", help="git revision of the old scripts")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=3000, help="batches: a tenth of this")
    parser.add_argument("--redis-server", action="append", default=[], metavar="PATH")
    args = parser.parse_args(argv)
    old = load(args.against)
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    for binary in args.redis_server or [None]:
        with tempfile.TemporaryDirectory() as tmp:
            server = RedisServer(Path(tmp), binary=binary)
            server.start()
            try:
                rows: dict[str, dict[str, list[float]]] = {}
                for _ in range(args.rounds):
                    for label, get in ((args.against, old), (f"this ({head})", scripts.get)):
                        with swapped(get):
                            for op, us in measure(server.url, args.calls).items():
                                rows.setdefault(op, {}).setdefault(label, []).append(us)
                print(f"\nRedis {version(server.url)} ({server.binary}), usec_per_call")
                labels = list(next(iter(rows.values())))
                print(f"| op | {' | '.join(labels)} | new/old |")
                print("|---|" + "---:|" * (len(labels) + 1))
                for op, by in rows.items():
                    med = [statistics.median(by[lb]) for lb in labels]
                    cells = [
                        f"{m:.1f} ({', '.join(f'{v:.1f}' for v in by[lb])})"
                        for m, lb in zip(med, labels, strict=True)
                    ]
                    print(f"| {op} | {' | '.join(cells)} | {med[1] / med[0]:.2f} |")
            finally:
                server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
