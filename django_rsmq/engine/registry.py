"""Consumers announce themselves in Redis: who runs, where, on which queues, how busy.

Each consumer keeps one hash (``Keys.consumer(name)``) that expires ``ttl`` seconds
after its last heartbeat, and its name in a sorted set (``Keys.consumers``) scored by
that heartbeat. A consumer that dies without unregistering disappears from the hash
but stays in the sorted set, so tools can show it as stale rather than forget it;
entries older than ``forget_after`` seconds are dropped when listing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis

from .keys import Keys

__all__ = ["ConsumerInfo", "ConsumerRegistry", "consumers_of"]


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)
class ConsumerInfo:
    """One consumer as stored in Redis. ``alive`` is ``False`` once its hash expired."""

    name: str
    heartbeat: float  # epoch seconds
    alive: bool
    host: str = ""
    pid: int = 0
    queues: tuple[str, ...] = ()
    started: float = 0.0
    state: str = ""
    processed: int = 0
    failed: int = 0
    current: tuple[str, ...] = field(default_factory=tuple)

    def age(self, now: float | None = None) -> float:
        """Seconds since the last heartbeat."""
        return max(0.0, (time.time() if now is None else now) - self.heartbeat)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": self.host,
            "pid": self.pid,
            "queues": list(self.queues),
            "started": self.started,
            "heartbeat": self.heartbeat,
            "alive": self.alive,
            "state": self.state,
            "processed": self.processed,
            "failed": self.failed,
            "current": list(self.current),
        }


class ConsumerRegistry:
    """Reads and writes consumer records of one namespace."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.keys = Keys(namespace)

    def beat(self, name: str, fields: Mapping[str, Any], ttl: float) -> None:
        """Write (or refresh) the record of ``name`` and push its expiry ``ttl`` ahead."""
        now = time.time()
        mapping: dict[Any, Any] = {
            k: json.dumps(v) if isinstance(v, list | tuple | dict) else str(v)
            for k, v in fields.items()
        }
        mapping["heartbeat"] = repr(now)
        key = self.keys.consumer(name)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, mapping=mapping)
        pipe.pexpire(key, max(1, int(ttl * 1000)))
        pipe.zadd(self.keys.consumers, {name: int(now * 1000)})
        pipe.execute()

    def remove(self, name: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.keys.consumer(name))
        pipe.zrem(self.keys.consumers, name)
        pipe.execute()

    def list(self, *, forget_after: float = 86400.0) -> list[ConsumerInfo]:
        """Every known consumer, newest heartbeat first (stale ones included)."""
        cutoff_ms = int((time.time() - forget_after) * 1000)
        self.client.zremrangebyscore(self.keys.consumers, "-inf", cutoff_ms)
        entries: list[tuple[Any, float]] = list(
            self.client.zrevrange(self.keys.consumers, 0, -1, withscores=True)  # type: ignore[arg-type]
        )
        pipe = self.client.pipeline(transaction=False)
        for name, _ in entries:
            pipe.hgetall(self.keys.consumer(_s(name)))
        records = pipe.execute() if entries else []
        return [
            _info(_s(name), float(score), rec)
            for (name, score), rec in zip(entries, records, strict=True)
        ]


def _info(name: str, score: float, raw: Mapping[Any, Any]) -> ConsumerInfo:
    rec = {_s(k): _s(v) for k, v in raw.items()}
    if not rec:
        return ConsumerInfo(name=name, heartbeat=score / 1000, alive=False)

    def as_list(key: str) -> tuple[str, ...]:
        try:
            value = json.loads(rec.get(key, "[]"))
        except ValueError:
            return ()
        return tuple(str(v) for v in value) if isinstance(value, list) else ()

    def num(key: str, kind: type[int] | type[float]) -> Any:
        try:
            return kind(float(rec.get(key, 0)))
        except ValueError:
            return kind(0)

    return ConsumerInfo(
        name=name,
        heartbeat=num("heartbeat", float),
        alive=True,
        host=rec.get("host", ""),
        pid=num("pid", int),
        queues=as_list("queues"),
        started=num("started", float),
        state=rec.get("state", ""),
        processed=num("processed", int),
        failed=num("failed", int),
        current=as_list("current"),
    )


def consumers_of(infos: Iterable[ConsumerInfo], queue: str) -> list[ConsumerInfo]:
    """The live consumers among ``infos`` that consume ``queue``."""
    return [c for c in infos if c.alive and queue in c.queues]
