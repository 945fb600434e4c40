"""Queue statistics: one function, one schema, for ``rsmq_stats``, the admin and
``stats.json``.

``collect()`` returns :class:`Stats`; ``Stats.as_dict()`` is the JSON schema::

    {
      "generated_at": 1700000000.0,          # epoch seconds
      "queues": [{
        "name": "emails", "connection": "default", "declared": true, "exists": true,
        "visible": 3, "in_flight": 1, "delayed": 0, "messages": 4,
        "sent": 120, "received": 118, "failed": 2, "dlq": 1,
        "dead_letter_queue": "emails-dlq", "oldest_age": 1.5, "consumers": 2,
        "sent_per_minute": 12.0, "received_per_minute": 11.5,
        "vt": 30.0, "delay": 0.0, "maxsize": 65536, "max_receives": 5
      }, ...],
      "consumers": [{"name": ..., "host": ..., "pid": ..., "queues": [...],
                     "started": ..., "heartbeat": ..., "alive": true, "state": "running",
                     "processed": 10, "failed": 0, "current": [...]}, ...],
      "outbox": [{"database": "default", "depth": 12, "oldest_age": 0.4, "failing": 0,
                  "relays": 2}, ...]
    }

``outbox`` has one entry per database of ``RSMQ["OUTBOX"]["DATABASES"]`` when the
transactional outbox is used (a queue with ``OUTBOX: True``, or ``OUTBOX["RELAY"]``
``True``), else none: ``depth`` committed rows not relayed yet, ``oldest_age`` seconds
since the oldest was written, ``failing`` rows whose last send failed, ``relays`` the
relays running (registry heartbeats within ``CONSUMER["REGISTRY_TTL"]``). A database
that cannot be read (not migrated) has ``null`` counts.

``failed`` counts the queue's failure records, ``dlq`` the messages in its dead-letter
queue (``null`` without one). Counts of a queue that does not exist in Redis (declared
but never created) are ``null``. The per-minute rates come from counter samples that
reading stats stores in Redis (:mod:`django_rsmq.engine.throughput`); they are
``null`` until a sample at least 5 s old exists.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..conf import rsmq_settings
from ..connections import get_rsmq, rsmq_for_queue
from ..engine.errors import QueueNotFound
from ..engine.registry import ConsumerInfo, ConsumerRegistry, consumers_of
from ..engine.throughput import sample_rates
from .queues import known_queues
from .redrive import DeadLetterQueueMissing, dead_letter_queue_of

__all__ = ["OutboxStats", "QueueStats", "Stats", "collect", "consumers", "outbox_stats"]


@dataclass(frozen=True)
class QueueStats:
    name: str
    connection: str
    declared: bool
    exists: bool
    visible: int | None = None
    in_flight: int | None = None
    delayed: int | None = None
    messages: int | None = None
    sent: int | None = None
    received: int | None = None
    failed: int | None = None
    dlq: int | None = None
    dead_letter_queue: str | None = None
    oldest_age: float | None = None
    consumers: int = 0
    sent_per_minute: float | None = None
    received_per_minute: float | None = None
    vt: float | None = None
    delay: float | None = None
    maxsize: int | None = None
    max_receives: int | None = None


@dataclass(frozen=True)
class OutboxStats:
    database: str
    depth: int | None = None
    oldest_age: float | None = None
    failing: int | None = None
    relays: int = 0


@dataclass(frozen=True)
class Stats:
    generated_at: float
    queues: list[QueueStats]
    consumers: list[ConsumerInfo] = field(default_factory=list)
    outbox: list[OutboxStats] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at,
            "queues": [asdict(q) for q in self.queues],
            "consumers": [c.as_dict() for c in self.consumers],
            "outbox": [asdict(o) for o in self.outbox],
        }


def outbox_stats() -> list[OutboxStats]:
    """The outbox tables' backlog and the relays running (none when it is not used)."""
    from django.db import DatabaseError

    from ..outbox.backlog import backlog
    from ..outbox.registry import RelayRegistry

    cfg = rsmq_settings()
    if not (cfg.outbox_used or cfg.outbox.relay is True):
        return []
    home = get_rsmq(cfg.outbox.connection)
    relays = len(RelayRegistry(home.client, cfg.namespace).alive(cfg.consumer.registry_ttl))
    out = []
    for database in cfg.outbox.databases:
        try:
            b = backlog(database)
        except DatabaseError:
            out.append(OutboxStats(database, relays=relays))
            continue
        out.append(OutboxStats(database, b.depth, b.oldest_age, b.failing, relays))
    return out


def _msgs(qname: str | None) -> int | None:
    if not qname:
        return None
    try:  # on the DLQ's connection: its queue's, unless it was given another (E009)
        return rsmq_for_queue(qname).get_queue_attributes(qname).msgs
    except QueueNotFound:
        return 0


def collect(queues: Iterable[str] | None = None) -> Stats:
    """Stats of the given queues, or of every declared queue plus every queue found
    in Redis on the connections declared queues use."""
    cfg = rsmq_settings()
    if queues is not None:
        wanted: list[tuple[str, str]] = [(q, cfg.queue(q).connection) for q in queues]
    else:
        wanted = known_queues()
    consumers: dict[tuple[int, str], list[ConsumerInfo]] = {}
    all_consumers: list[ConsumerInfo] = []
    out = []
    for qname, alias in sorted(wanted):
        rsmq = get_rsmq(alias)
        ckey = (id(rsmq.client), rsmq.namespace)
        if ckey not in consumers:
            consumers[ckey] = ConsumerRegistry(rsmq.client, rsmq.namespace).list()
            all_consumers += consumers[ckey]
        try:
            dlq: str | None = dead_letter_queue_of(qname)
        except DeadLetterQueueMissing:
            dlq = None
        common = {
            "name": qname,
            "connection": alias,
            "declared": qname in cfg.queues,
            "dead_letter_queue": dlq,
            "consumers": len(consumers_of(consumers[ckey], qname)),
        }
        try:
            a = rsmq.get_queue_attributes(qname)
        except QueueNotFound:
            out.append(QueueStats(exists=False, **common))  # type: ignore[arg-type]
            continue
        rates = sample_rates(rsmq.client, rsmq.protocol.keys, qname, a.totalsent, a.totalrecv)
        out.append(
            QueueStats(
                exists=True,
                visible=a.visible,
                in_flight=a.in_flight,
                delayed=a.delayed,
                messages=a.msgs,
                sent=a.totalsent,
                received=a.totalrecv,
                failed=rsmq.failed(qname, limit=1).total,
                dlq=_msgs(dlq),
                oldest_age=a.oldest_age,
                vt=a.vt,
                delay=a.delay,
                maxsize=a.maxsize,
                max_receives=a.max_receives,
                sent_per_minute=rates.sent_per_minute,
                received_per_minute=rates.received_per_minute,
                **common,  # type: ignore[arg-type]
            )
        )
    return Stats(time.time(), out, all_consumers, outbox_stats())


def consumers() -> list[ConsumerInfo]:
    """Every consumer registered on the connections of the known queues (stale ones
    included, newest heartbeat first)."""
    seen: dict[tuple[int, str], list[ConsumerInfo]] = {}
    for alias in sorted({alias for _, alias in known_queues()} or {"default"}):
        rsmq = get_rsmq(alias)
        key = (id(rsmq.client), rsmq.namespace)
        if key not in seen:
            seen[key] = ConsumerRegistry(rsmq.client, rsmq.namespace).list()
    return sorted(
        (c for infos in seen.values() for c in infos), key=lambda c: c.heartbeat, reverse=True
    )
