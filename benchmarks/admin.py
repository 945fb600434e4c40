"""Admin operations and the Redis stall each causes: ``python -m benchmarks --only admin``
(or ``python -m benchmarks.admin admin URL`` on a server of your own: it FLUSHES it).

* search over 10k messages of 60 KB, the whole queue (following "continue" until the end)
  with the bounded search of the message browser, versus the scan it replaced (peeks of
  1,000 messages: one call copies 60 MB);
* purge of 50k messages of 1 KB in chunks of 500, versus purge in one script.

The stall is what another client sees: a separate process PINGs Redis in a loop on its
own connection and reports the slowest round trip while the operation runs (its floor,
idle, is about 0.1 ms). ``slowest Redis call`` is the slowest single command in Redis'
SLOWLOG (threshold 1 ms while measuring): the issue-16 bound is 50 ms. Both are wall
times on the server, so a busy machine (CPU steal) inflates them; ``-v`` prints the
slowest commands.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from typing import Any

import redis

ROWS: list[tuple[str, str, str | None, str, bool, float | None]] = [
    (
        "admin search 10k x 60 KB: PING stall, bounded vs 1000-peek scan",
        "admin",
        "search_stall_ms",
        "ms",
        False,
        None,
    ),
    (
        "admin search 10k x 60 KB: slowest Redis call, bounded vs 1000-peek scan",
        "admin",
        "search_max_call_ms",
        "ms",
        False,
        None,
    ),
    (
        "admin search 10k x 60 KB: whole queue, bounded (with continues) vs scan",
        "admin",
        "search_s",
        "s",
        False,
        None,
    ),
    (
        "admin purge 50k x 1 KB: PING stall, chunked vs one script",
        "admin",
        "purge_stall_ms",
        "ms",
        False,
        None,
    ),
    (
        "admin purge 50k x 1 KB: slowest Redis call, chunked vs one script",
        "admin",
        "purge_max_call_ms",
        "ms",
        False,
        None,
    ),
    ("admin purge 50k x 1 KB: total, chunked vs one script", "admin", "purge_s", "s", False, None),
]

NAMESPACE = "benchadmin"
SEARCH_N, SEARCH_BODY = 10_000, 60_000
PURGE_N, PURGE_BODY = 50_000, 1024


def _pinger(url: str, stop: Any, ready: Any, out: Any) -> None:
    client = redis.Redis.from_url(url)
    client.ping()
    ready.set()
    worst = 0.0
    while not stop.is_set():
        t = time.perf_counter()
        client.ping()
        worst = max(worst, time.perf_counter() - t)
    out.put(worst * 1000)
    client.close()


def stalled(url: str, work: Any) -> tuple[float, float, float, Any]:
    """Run ``work()`` while another process PINGs: (seconds, worst PING ms, slowest
    command ms by SLOWLOG, work's result)."""
    client = redis.Redis.from_url(url)
    client.config_set("slowlog-log-slower-than", 1000)  # every call of 1 ms or more
    client.config_set("slowlog-max-len", 10_000)
    client.slowlog_reset()  # before the pinger starts: freeing a long log takes a while
    ctx = multiprocessing.get_context("spawn")
    stop, ready, out = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=_pinger, args=(url, stop, ready, out))
    proc.start()
    ready.wait(30)
    t = time.perf_counter()
    result = work()
    took = time.perf_counter() - t
    stop.set()
    worst_ping = float(out.get(timeout=30))
    proc.join(30)
    calls = [
        (int(e["duration"]), e["command"][:60])
        for e in client.slowlog_get(100_000)
        if not e["command"].startswith((b"PING", b"SLOWLOG", b"CONFIG"))
    ]
    slowest = max((us for us, _ in calls), default=0)
    if "-v" in sys.argv:
        print(sorted(calls, key=lambda c: c[0])[-3:], file=sys.stderr)
    client.config_set("slowlog-log-slower-than", 10_000)
    client.close()
    return took, worst_ping, slowest / 1000, result


def _fill(rsmq: Any, queue: str, n: int, body: str, last: str | None = None) -> None:
    per_call = max(1, min(1000, 6_000_000 // len(body)))
    for start in range(0, n, per_call):
        rsmq.send_many(queue, [body] * min(per_call, n - start))
    if last is not None:
        rsmq.send(queue, last)


def _configure(url: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django_rsmq"],
        RSMQ={
            "CONNECTIONS": {"default": {"URL": url}},
            "NAMESPACE": NAMESPACE,
            "QUEUES": {"big": {}, "many": {}},
        },
    )
    django.setup()


def measure(url: str) -> dict[str, Any]:
    _configure(url)
    from django_rsmq.connections import get_rsmq
    from django_rsmq.operations import messages, queues

    client = redis.Redis.from_url(url)
    client.flushall()
    rsmq = get_rsmq()
    rsmq.create_queue("many")
    _fill(rsmq, "many", SEARCH_N, "x" * SEARCH_BODY, last="the NEEDLE")

    def bounded() -> int:
        found, start, requests = [], 0, 0
        while True:
            s = messages.search("many", "needle", start=start)
            requests += 1
            found += s.matches
            if s.next_start is None:
                return requests
            start = s.next_start

    def scan() -> int:  # the search before issue 16 (stopped at 10k: here it is the end)
        hits = 0
        for start in range(0, SEARCH_N + 1000, 1000):
            batch = rsmq.peek("many", offset=start, limit=1000)
            hits += sum(1 for m in batch if "needle" in str(m.raw).lower())
            if len(batch) < 1000:
                break
        return hits

    s_ours = stalled(url, bounded)
    s_floor = stalled(url, scan)
    client.delete(*client.keys(f"{NAMESPACE}:many*"))

    rsmq.create_queue("big")
    _fill(rsmq, "big", PURGE_N, "y" * PURGE_BODY)
    p_ours = stalled(url, lambda: queues.purge("big"))
    _fill(rsmq, "big", PURGE_N, "y" * PURGE_BODY)
    p_floor = stalled(url, lambda: rsmq.purge("big"))
    assert p_ours[3] == p_floor[3] == PURGE_N, (p_ours[3], p_floor[3])
    client.close()

    def side(search: tuple[Any, ...], purge: tuple[Any, ...]) -> dict[str, float]:
        return {
            "search_s": search[0],
            "search_stall_ms": search[1],
            "search_max_call_ms": search[2],
            "purge_s": purge[0],
            "purge_stall_ms": purge[1],
            "purge_max_call_ms": purge[2],
        }

    return {
        "ours": side(s_ours, p_ours),
        "floor": side(s_floor, p_floor),
        "search_requests": s_ours[3],
    }


def main(argv: list[str]) -> int:
    url = next(a for a in argv if a != "admin")
    print(json.dumps(measure(url)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
