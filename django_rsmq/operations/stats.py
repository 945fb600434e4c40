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
        "vt": 30.0, "delay": 0.0, "maxsize": 65536, "max_receives": 5,
        "paused": false, "rate_limit": "100/s", "max_in_flight": 5
      }, ...],
      "consumers": [{"name": ..., "host": ..., "pid": ..., "queues": [...],
                     "started": ..., "heartbeat": ..., "alive": true, "state": "running",
                     "processed": 10, "failed": 0, "current": [...]}, ...],
      "warnings": [{"kind": "malformed_queue", "name": "bad:name", "connection": "default",
                    "message": "..."}, ...],
      "outbox": [{"database": "default", "depth": 12, "oldest_age": 0.4, "failing": 0,
                  "relays": 2}, ...],
      "schedule": [{"name": "nightly", "queue": "reports", "schedule": "0 3 * * * (UTC)",
                    "missed": "skip", "next_run": 1700010800.0, "last_run": 1699924800.0,
                    "last_message_id": "..."}, ...]
    }

``schedule`` lists ``RSMQ["SCHEDULE"]``'s periodic messages (docs/periodic.md) with their
next and last run (``null``: never), in a full collect (no queue list, no filter).

``outbox`` has one entry per database of ``RSMQ["OUTBOX"]["DATABASES"]`` when the
transactional outbox is used (a queue with ``OUTBOX: True``, or ``OUTBOX["RELAY"]``
``True``), else none: ``depth`` committed rows not relayed yet, ``oldest_age`` seconds
since the oldest was written, ``failing`` rows whose last send failed, ``relays`` the
relays running (registry heartbeats within ``CONSUMER["REGISTRY_TTL"]``). A database
that cannot be read (not migrated) has ``null`` counts.

``warnings`` lists what was skipped rather than failing: a member of ``{ns}:QUEUES``
that is no valid queue name (a peer wrote it) is left out of ``queues``.

``failed`` counts the queue's failure records, ``dlq`` the messages in its dead-letter
queue (``null`` without one). Counts of a queue that does not exist in Redis (declared
but never created) are ``null``. The per-minute rates come from counter samples that
reading stats stores in Redis (:mod:`django_rsmq.engine.throughput`); they are
``null`` until a sample at least 5 s old exists.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

from ..conf import rsmq_settings
from ..connections import get_rsmq
from ..engine import RSMQ, QueueAttributes, history
from ..engine.errors import QueueNotFound
from ..engine.registry import ConsumerInfo, ConsumerRegistry, consumers_of
from ..engine.reliability import default_dead_letter_queue
from ..engine.throughput import Rates, sample_rates_many
from ..periodic.status import EntryStatus
from ..periodic.status import status as schedule_status
from .queues import known_queues, malformed_queues

__all__ = [
    "OutboxStats",
    "QueueStats",
    "Stats",
    "StatsWarning",
    "collect",
    "consumers",
    "outbox_stats",
    "warnings",
]

log = logging.getLogger("django_rsmq")


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
    paused: bool | None = None  # pause_queue(): consumers receive nothing from it
    rate_limit: str | None = None  # "100/s" (RateLimit), message starts for all consumers
    max_in_flight: int | None = None  # concurrency cap: messages held at once, all consumers


@dataclass(frozen=True)
class StatsWarning:
    """Something ``collect()`` skipped instead of failing (a dashboard warning row)."""

    kind: str  # "malformed_queue"
    name: str
    connection: str
    message: str


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
    warnings: list[StatsWarning] = field(default_factory=list)
    schedule: list[EntryStatus] = field(default_factory=list)

    @property
    def malformed_queues(self) -> int:
        return sum(1 for w in self.warnings if w.kind == "malformed_queue")

    def as_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at,
            "queues": [asdict(q) for q in self.queues],
            "consumers": [c.as_dict() for c in self.consumers],
            "warnings": [asdict(w) for w in self.warnings],
            "outbox": [asdict(o) for o in self.outbox],
            "schedule": [e.as_dict() for e in self.schedule],
        }


def warnings() -> list[StatsWarning]:
    """The warning rows of the known connections (malformed queue names in Redis)."""
    return [
        StatsWarning("malformed_queue", m.name, m.connection, f"skipped: {m.error}")
        for m in malformed_queues()
    ]


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


#: per process: the last minute each connection's history was sampled (engine/history.py)
_SAMPLER = history.Sampler()


def _dlq_of(qname: str, attrs: QueueAttributes | None) -> str | None:
    """What :func:`~django_rsmq.operations.redrive.dead_letter_queue_of` answers, from
    attributes already read (``None``: the queue has no dead-letter queue)."""
    declared = rsmq_settings().queue(qname).dlq
    if declared:
        return declared
    if attrs is not None and attrs.dead_letter_queue:
        return attrs.dead_letter_queue
    if attrs is not None and attrs.max_receives:
        return default_dead_letter_queue(qname)
    return None


def _read(rsmq: RSMQ, names: list[str]) -> dict[str, tuple[QueueAttributes | None, int | None]]:
    """Attributes and failure-record count of ``names`` on one connection, one round
    trip (``(None, None)`` for a queue that does not exist)."""
    proto = rsmq.protocol
    calls: list[Any] = []
    for q in names:
        calls += [proto.get_queue_attributes(q), proto.failed(q, rsmq.serializer, limit=1)]
    replies = history.run_pipeline(rsmq.client, calls)
    out: dict[str, tuple[QueueAttributes | None, int | None]] = {}
    for i, q in enumerate(names):
        try:
            attrs = calls[2 * i].parse(replies[2 * i])
        except QueueNotFound:
            out[q] = (None, None)
            continue
        try:
            failed = calls[2 * i + 1].parse(replies[2 * i + 1]).total
        except QueueNotFound:  # deleted between the two calls
            failed = 0
        out[q] = (attrs, failed)
    return out


def _sample_history(
    rsmq: RSMQ, names: list[str], found: dict[str, Any], now_ms: int, *, total: bool
) -> None:
    """Store this minute's history records (once per minute and process): the attributes
    are at hand, so a read of stats costs no extra round trip but once a minute."""
    cfg = rsmq_settings().history.config()
    keys = rsmq.protocol.keys
    if not cfg.enabled or not _SAMPLER.due(rsmq.client, keys, now_ms, total=total, qnames=names):
        return
    attrs = {q: a for q in names if (a := found[q][0]) is not None}
    try:
        history.sample(rsmq.client, keys, list(attrs), cfg, now_ms=now_ms, attrs=attrs, total=total)
    except redis.RedisError as exc:  # history is best effort: stats still answer
        log.warning("Could not store the metrics history: %s", exc)
        return
    _SAMPLER.done(rsmq.client, keys, now_ms, total=total, qnames=names)


def collect(queues: Iterable[str] | None = None, *, match: str | None = None) -> Stats:
    """Stats of the given queues, or of every declared queue plus every queue found
    in Redis on the connections declared queues use; with ``match``, only the queues
    whose name contains it (case-insensitive).

    A constant number of round trips per connection, whatever the number of queues:
    attributes and failure counts of all queues in one pipeline, the dead-letter queues'
    depth in another (when not among them), the throughput samples in two; once a minute
    also the history records (:mod:`django_rsmq.engine.history`)."""
    cfg = rsmq_settings()
    if queues is not None:
        wanted: list[tuple[str, str]] = [(q, cfg.queue(q).connection) for q in queues]
    else:
        wanted = known_queues()
    if match:
        needle = match.lower()
        wanted = [(q, alias) for q, alias in wanted if needle in q.lower()]
    by_alias: dict[str, list[str]] = {}
    for qname, alias in sorted(wanted):
        by_alias.setdefault(alias, []).append(qname)
    consumers: dict[tuple[int, str], list[ConsumerInfo]] = {}
    all_consumers: list[ConsumerInfo] = []
    found: dict[str, tuple[QueueAttributes | None, int | None]] = {}
    rates: dict[str, Rates] = {}
    for alias, names in by_alias.items():
        rsmq = get_rsmq(alias)
        ckey = (id(rsmq.client), rsmq.namespace)
        if ckey not in consumers:
            consumers[ckey] = ConsumerRegistry(rsmq.client, rsmq.namespace).list()
            all_consumers += consumers[ckey]
        got = _read(rsmq, names)
        found.update(got)
        totals = {q: (a.totalsent, a.totalrecv) for q, (a, _) in got.items() if a is not None}
        got_rates, now_ms = sample_rates_many(rsmq.client, rsmq.protocol.keys, totals)
        rates.update(got_rates)
        _sample_history(rsmq, names, got, now_ms, total=queues is None and not match)
    dlqs = {q: _dlq_of(q, found[q][0]) for q, _ in wanted}
    dlq_msgs: dict[str, int] = {}
    missing: dict[str, list[str]] = {}
    for d in {d for d in dlqs.values() if d}:
        home = cfg.queue(d).connection
        attrs = found.get(d, (None, None))[0] if (d, home) in wanted else None
        if attrs is not None:
            dlq_msgs[d] = attrs.msgs
        else:
            missing.setdefault(home, []).append(d)
    for alias, names in missing.items():  # on the DLQ's connection (E009)
        rsmq = get_rsmq(alias)
        calls = [rsmq.protocol.get_queue_attributes(d) for d in names]
        for d, c, reply in zip(names, calls, history.run_pipeline(rsmq.client, calls), strict=True):
            try:
                dlq_msgs[d] = c.parse(reply).msgs
            except QueueNotFound:
                dlq_msgs[d] = 0
    out = []
    for qname, alias in sorted(wanted):
        rsmq = get_rsmq(alias)
        dlq = dlqs[qname]
        common = {
            "name": qname,
            "connection": alias,
            "declared": qname in cfg.queues,
            "dead_letter_queue": dlq,
            "consumers": len(consumers_of(consumers[(id(rsmq.client), rsmq.namespace)], qname)),
        }
        a, failed = found[qname]
        if a is None:
            out.append(QueueStats(exists=False, **common))  # type: ignore[arg-type]
            continue
        r = rates.get(qname, Rates())
        out.append(
            QueueStats(
                exists=True,
                visible=a.visible,
                in_flight=a.in_flight,
                delayed=a.delayed,
                messages=a.msgs,
                sent=a.totalsent,
                received=a.totalrecv,
                failed=failed,
                dlq=dlq_msgs.get(dlq) if dlq else None,
                oldest_age=a.oldest_age,
                vt=a.vt,
                delay=a.delay,
                maxsize=a.maxsize,
                max_receives=a.max_receives,
                paused=a.paused,
                rate_limit=str(a.rate_limit) if a.rate_limit else None,
                max_in_flight=a.max_in_flight,
                sent_per_minute=r.sent_per_minute,
                received_per_minute=r.received_per_minute,
                **common,  # type: ignore[arg-type]
            )
        )
    return Stats(
        time.time(),
        out,
        all_consumers,
        warnings=warnings() if queues is None else [],
        outbox=outbox_stats(),
        schedule=schedule_status() if queues is None and not match else [],
    )


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
