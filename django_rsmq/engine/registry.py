"""Consumers announce themselves in Redis: who runs, where, on which queues, how busy.

Each consumer keeps one hash (``Keys.consumer(name)``) that expires ``ttl`` seconds
after its last heartbeat, and its name in a sorted set (``Keys.consumers``) scored by
that heartbeat. A consumer that dies without unregistering disappears from the hash
but stays in the sorted set, so tools can show it as stale rather than forget it;
entries older than ``forget_after`` seconds are dropped when listing.

Every time here is Redis ``TIME``, as on the message path: the heartbeat is stamped
by the script that writes it (``consumer_beat.lua``) and listing prunes against the
server's clock, so a host whose clock is skewed can neither write a heartbeat in the
past or future nor prune a live consumer's entry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis

from . import scripts
from .keys import Keys

__all__ = ["ConsumerInfo", "ConsumerRegistry", "consumers_of", "server_time"]


def server_time(reply: Any) -> float:
    """Epoch seconds from a ``TIME`` reply (redis-py parses it as ``(s, us)``)."""
    sec, usec = reply
    return int(sec) + int(usec) / 1_000_000


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
    read_at: float = 0.0  # Redis TIME when the registry was read (0: unknown)

    def age(self, now: float | None = None) -> float:
        """Seconds since the last heartbeat, by default as of the read (Redis' clock)."""
        if now is None:
            now = self.read_at or time.time()
        return max(0.0, now - self.heartbeat)

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

    def beat(self, name: str, fields: Mapping[str, Any], ttl: float) -> float:
        """Write (or refresh) the record of ``name`` and push its expiry ``ttl`` ahead.

        One script call; the heartbeat (returned, epoch seconds) is Redis ``TIME``, and so
        is ``started`` when the record is new (a ``started`` in ``fields`` wins)."""
        static = {k: fields[k] for k in ("host", "pid", "queues") if k in fields}
        if isinstance(static.get("queues"), tuple):
            static["queues"] = list(static["queues"])
        args: list[Any] = [name, max(1, int(ttl * 1000)), json.dumps(static)]
        for k, v in fields.items():
            if k == "heartbeat":
                continue
            args += [k, json.dumps(v) if isinstance(v, list | tuple | dict) else str(v)]
        keys = [self.keys.consumer(name), self.keys.consumers, self.keys.consumers_static]
        return int(self._script("consumer_beat", keys, args)) / 1000

    def _script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        script = scripts.get(name)
        try:
            return self.client.evalsha(script.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            return self.client.eval(script.source, len(keys), *keys, *args)

    def remove(self, name: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.keys.consumer(name))
        pipe.zrem(self.keys.consumers, name)
        pipe.hdel(self.keys.consumers_static, name)
        pipe.execute()

    def forget_stale(self, names: Iterable[str] | None = None) -> int:
        """Drop stale consumers (record expired) from the registry: all of them, or those
        of ``names`` that are stale. A consumer that beats again is never dropped (one
        atomic script); returns how many were forgotten."""
        if names is None:
            names = [c.name for c in self.list() if not c.alive]
        todo = list(names)
        if not todo:
            return 0
        keys = [self.keys.consumers, self.keys.consumers_static]
        keys += [self.keys.consumer(n) for n in todo]
        return int(self._script("forget_consumers", keys, todo))

    def list(self, *, forget_after: float = 86400.0) -> list[ConsumerInfo]:
        """Every known consumer, newest heartbeat first (stale ones included).

        Entries whose heartbeat is more than ``forget_after`` seconds old by Redis'
        clock are dropped."""
        pipe = self.client.pipeline(transaction=False)
        pipe.time()
        pipe.zrevrange(self.keys.consumers, 0, -1, withscores=True)
        time_reply, rows = pipe.execute()
        now = server_time(time_reply)
        cutoff_ms = int((now - forget_after) * 1000)
        entries = [(name, float(score)) for name, score in rows if float(score) > cutoff_ms]
        pipe = self.client.pipeline(transaction=False)
        if len(entries) < len(rows):
            pipe.zremrangebyscore(self.keys.consumers, "-inf", cutoff_ms)
            gone = [_s(name) for name, score in rows if float(score) <= cutoff_ms]
            pipe.hdel(self.keys.consumers_static, *gone)
        for name, _ in entries:
            pipe.hgetall(self.keys.consumer(_s(name)))
        if entries:
            pipe.hmget(self.keys.consumers_static, [_s(name) for name, _ in entries])
        replies = pipe.execute() if len(pipe) else []
        if not entries:
            return []
        records = replies[len(replies) - len(entries) - 1 : -1]
        statics = replies[-1]
        return [
            _info(_s(name), score, rec, now, static)
            for (name, score), rec, static in zip(entries, records, statics, strict=True)
        ]


def _static(raw: Any) -> dict[str, Any]:
    """The static fields a beat kept (host, pid, queues, started), ``{}`` if none."""
    if raw is None:
        return {}
    try:
        value = json.loads(_s(raw))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _info(
    name: str, score: float, raw: Mapping[Any, Any], read_at: float, static: Any = None
) -> ConsumerInfo:
    rec = {_s(k): _s(v) for k, v in raw.items()}
    if not rec:  # expired: what the static hash kept says where it ran
        st = _static(static)
        queues = st.get("queues")
        try:
            pid, started = int(st.get("pid") or 0), float(st.get("started") or 0)
        except (TypeError, ValueError):
            pid, started = 0, 0.0
        return ConsumerInfo(
            name=name,
            heartbeat=score / 1000,
            alive=False,
            host=str(st.get("host") or ""),
            pid=pid,
            queues=tuple(str(q) for q in queues) if isinstance(queues, list) else (),
            started=started,
            read_at=read_at,
        )

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
        read_at=read_at,
    )


def consumers_of(infos: Iterable[ConsumerInfo], queue: str) -> list[ConsumerInfo]:
    """The live consumers among ``infos`` that consume ``queue``."""
    return [c for c in infos if c.alive and queue in c.queues]
