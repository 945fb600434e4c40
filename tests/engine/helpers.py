"""Small helpers for the engine tests: bounded waits and direct looks at Redis."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis

T = TypeVar("T")

ID_RE = re.compile(r"[0-9a-z]{10}[A-Za-z0-9]{22}")


def b36(n: int) -> str:
    """Lowercase base 36, like JavaScript's Number#toString(36)."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, d = divmod(n, 36)
        out = digits[d] + out
    return out or "0"


def wait_for(predicate: Callable[[], T], *, timeout: float = 3.0, what: str = "condition") -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.005)


def redis_us(client: redis.Redis) -> int:
    """Redis TIME in epoch microseconds."""
    sec, usec = client.time()
    return int(sec) * 1_000_000 + int(usec)


def redis_ms(client: redis.Redis) -> int:
    return redis_us(client) // 1000


def next_ms(client: redis.Redis) -> int:
    """Wait (bounded) until Redis' clock has moved to a later millisecond; return it."""
    start = redis_ms(client)
    return wait_for(lambda: (lambda now: now if now > start else 0)(redis_ms(client)))


def snapshot(client: redis.Redis, namespace: str) -> dict[str, Any]:
    """Every key of a namespace with its full contents (to prove nothing changed)."""
    out: dict[str, Any] = {}
    for key in sorted(client.scan_iter(match=f"{namespace}:*", count=1000)):
        kind = client.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind == "hash":
            out[key] = client.hgetall(key)
        elif kind == "zset":
            out[key] = client.zrange(key, 0, -1, withscores=True)
        elif kind == "set":
            out[key] = client.smembers(key)
        else:
            out[key] = client.get(key)
    return out
