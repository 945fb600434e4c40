"""Stored metrics history: per queue, one record a minute (a day's worth by default) and
one an hour (30 days), in two fixed-size rings per queue.

A record (:data:`RECORD`, 76 bytes) holds the running totals (sent, received, acked,
failed, dead-lettered), the depth (visible / in flight / delayed), the oldest visible
message's age and the handler-duration percentiles of the minute before. A ring is a
Redis string of ``slots x 76`` bytes (``Keys.history``), created at its full length, so
a queue's history costs ``(minutes + hours) x 76`` bytes whatever happens; slot
``stamp % slots`` holds the record of minute (or hour) ``stamp``, whose first 4 bytes
are that stamp: a reader keeps only slots whose stamp is the one it expects, so stale
slots (a gap, a changed ring length) read as missing, never as wrong data.

Nothing is written per message. Whoever reads the counters anyway samples them: the
admin, ``stats.json`` and ``metrics`` (:func:`sample` with the attributes they read),
and every consumer at its heartbeat (for its own queues). ``history_write.lua`` writes a
slot only if its stamp is not the current one, so many writers in the same minute
write it once (the first wins) and the rest is a no-op; each process also remembers the
last minute it wrote and skips the round trip until the next one (:class:`Sampler`).

Totals the scripts do not keep (acks, failures, dead-letterings) and handler durations
come from the consumers: they count in memory and add their counts at each heartbeat
(:func:`flush`, one pipeline per beat; :mod:`django_rsmq.engine.durations`):
``Keys.history_counts`` (running totals) and ``Keys.history_durations`` (a log-scale
histogram per minute, 4 buckets per doubling).

Stamps are Redis ``TIME`` minutes, never a host's clock.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from redis.exceptions import NoScriptError

from . import durations, scripts
from .connection import RAW
from .durations import DurationCounts, percentiles
from .keys import Keys
from .message import QueueAttributes
from .protocol import Call, Protocol

__all__ = [
    "RECORD",
    "TOTAL",
    "DurationCounts",
    "HistoryConfig",
    "Point",
    "Sample",
    "Sampler",
    "flush",
    "memory_per_series",
    "percentiles",
    "read",
    "run_pipeline",
    "sample",
]

#: stamp, sent, received, acked, failed, dead, visible, in_flight, delayed,
#: oldest age (s), p50, p95, p99 (us), durations counted; all big-endian unsigned
RECORD = struct.Struct(">I5Q3I4II")
NONE32 = 0xFFFFFFFF
#: the series of all queues of a namespace (written by whoever samples them all)
TOTAL = "*"


@dataclass(frozen=True, slots=True)
class HistoryConfig:
    """How much history to keep: ``minutes`` one-minute and ``hours`` one-hour slots."""

    enabled: bool = True
    minutes: int = 1440
    hours: int = 720


def memory_per_series(cfg: HistoryConfig) -> int:
    """Bytes of both rings of one queue (Redis adds its allocator's rounding)."""
    return (cfg.minutes + cfg.hours) * RECORD.size


@dataclass(frozen=True, slots=True)
class Sample:
    """What a record holds. Durations are seconds; ``None``: not known."""

    sent: int = 0
    received: int = 0
    acked: int = 0
    failed: int = 0
    dead: int = 0
    visible: int = 0
    in_flight: int = 0
    delayed: int = 0
    oldest_age: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    handled: int = 0  # durations the percentiles are made of

    def pack(self, stamp: int) -> bytes:
        def s32(v: float | None, scale: float) -> int:
            return NONE32 if v is None else min(NONE32 - 1, max(0, int(v * scale)))

        def u64(v: int) -> int:
            return min(2**64 - 1, max(0, int(v)))

        return RECORD.pack(
            stamp,
            u64(self.sent),
            u64(self.received),
            u64(self.acked),
            u64(self.failed),
            u64(self.dead),
            min(NONE32, self.visible),
            min(NONE32, self.in_flight),
            min(NONE32, self.delayed),
            s32(self.oldest_age, 1),
            s32(self.p50, 1e6),
            s32(self.p95, 1e6),
            s32(self.p99, 1e6),
            min(NONE32, self.handled),
        )

    @classmethod
    def unpack(cls, data: bytes) -> tuple[int, Sample]:
        r = RECORD.unpack(data)

        def opt(v: int, scale: float) -> float | None:
            return None if v == NONE32 else v / scale

        sent, received, acked, failed, dead, visible, in_flight, delayed = r[1:9]
        return r[0], cls(
            sent,
            received,
            acked,
            failed,
            dead,
            visible,
            in_flight,
            delayed,
            oldest_age=opt(r[9], 1),
            p50=opt(r[10], 1e6),
            p95=opt(r[11], 1e6),
            p99=opt(r[12], 1e6),
            handled=r[13],
        )


@dataclass(frozen=True, slots=True)
class Point:
    """One minute (or hour) of a series: its record and the rates since the record
    before (per minute; ``None`` at the first point, after a gap's counter reset)."""

    at: float  # epoch seconds of the bucket's start
    sample: Sample
    sent_per_minute: float | None = None
    received_per_minute: float | None = None
    acked_per_minute: float | None = None
    failed_per_minute: float | None = None
    dead_per_minute: float | None = None


# -- handler durations (engine/durations.py) --------------------------------------------


def flush(
    client: redis.Redis,
    keys: Keys,
    taken: Mapping[str, list[Any]],
    now_ms: int,
    cfg: HistoryConfig,
) -> None:
    """:func:`django_rsmq.engine.durations.flush`, the totals kept as long as the history."""
    keep_ms = max(cfg.hours * 3600, cfg.minutes * 60, 3600) * 1000
    durations.flush(client, keys, taken, now_ms, keep_ms)


# -- sampling ----------------------------------------------------------------------------


def _num(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def _counts(raw: Mapping[Any, Any]) -> dict[str, int]:
    return {(k.decode() if isinstance(k, bytes) else str(k)): _num(v) for k, v in raw.items()}


def run_pipeline(client: redis.Redis, items: Sequence[Call[Any] | tuple[Any, ...]]) -> list[Any]:
    """Script calls and plain commands in one pipeline; replies raw, errors as values
    (a script Redis lost is loaded and its calls sent again)."""

    def send(todo: Sequence[Call[Any] | tuple[Any, ...]]) -> list[Any]:
        pipe = client.pipeline(transaction=False)
        for it in todo:
            if isinstance(it, Call):
                pipe.execute_command(*it.evalsha(), **RAW)  # type: ignore[no-untyped-call]
            else:
                pipe.execute_command(*it, **RAW)  # type: ignore[no-untyped-call]
        return pipe.execute(raise_on_error=False)

    replies = send(items)
    lost = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
    if lost:
        for name in {items[i].script.name for i in lost}:  # type: ignore[union-attr]
            client.script_load(scripts.get(name).source)
        for i, r in zip(lost, send([items[i] for i in lost]), strict=True):
            replies[i] = r
    return replies


def write_call(keys: Keys, series: str, now_ms: int, s: Sample, cfg: HistoryConfig) -> Call[Any]:
    """The ``history_write`` call of one sample taken at ``now_ms`` (Redis time)."""
    minute, hour = now_ms // 60_000, now_ms // 3_600_000
    m_rec, h_rec = s.pack(minute), s.pack(hour)
    size = RECORD.size
    args = (
        size,
        cfg.minutes,
        m_rec[:4],
        (minute % cfg.minutes) * size,
        cfg.hours,
        h_rec[:4],
        (hour % cfg.hours) * size,
        m_rec[4:],
        cfg.minutes * 60_000,
        cfg.hours * 3_600_000,
    )
    ring = (keys.history(series, "m"), keys.history(series, "h"))
    return Call(scripts.get("history_write"), ring, args, lambda r: r)  # type: ignore[arg-type]


def _merge(samples: Iterable[Sample], buckets: Mapping[int, int]) -> Sample:
    ss = list(samples)
    ages = [s.oldest_age for s in ss if s.oldest_age is not None]
    p = percentiles(buckets)
    return Sample(
        sent=sum(s.sent for s in ss),
        received=sum(s.received for s in ss),
        acked=sum(s.acked for s in ss),
        failed=sum(s.failed for s in ss),
        dead=sum(s.dead for s in ss),
        visible=sum(s.visible for s in ss),
        in_flight=sum(s.in_flight for s in ss),
        delayed=sum(s.delayed for s in ss),
        oldest_age=max(ages) if ages else None,
        p50=p[0],
        p95=p[1],
        p99=p[2],
        handled=sum(buckets.values()),
    )


def sample(
    client: redis.Redis,
    keys: Keys,
    qnames: Sequence[str],
    cfg: HistoryConfig,
    *,
    now_ms: int,
    attrs: Mapping[str, QueueAttributes] | None = None,
    total: bool = False,
) -> int:
    """Write the history records of ``qnames`` for the minute of ``now_ms`` (Redis
    time), and with ``total`` the namespace's :data:`TOTAL` series (the caller sampled
    every queue). ``attrs`` are the queues' attributes if the caller has them (else they
    are read here). Two round trips; returns how many minute slots were new."""
    if not cfg.enabled or not qnames:
        return 0
    minute = now_ms // 60_000
    proto = Protocol(keys.namespace)
    reads: list[Call[Any] | tuple[Any, ...]] = []
    for q in qnames:
        reads.append(("HGETALL", keys.history_counts(q)))
        reads.append(("HGETALL", keys.history_durations(q, minute - 1)))
        if attrs is None or q not in attrs:
            reads.append(proto.get_queue_attributes(q))
    replies = iter(run_pipeline(client, reads))
    samples: dict[str, Sample] = {}
    all_buckets: dict[int, int] = {}
    for q in qnames:
        counts, durations = next(replies), next(replies)
        a: Any = attrs.get(q) if attrs is not None else None
        if a is None:
            reply = next(replies)
            try:
                a = proto.get_queue_attributes(q).parse(reply)
            except Exception:  # gone, or not a queue: no record
                continue
        if isinstance(counts, Exception) or isinstance(durations, Exception):
            counts, durations = {}, {}
        c = _counts(counts)
        buckets = {_num(k): n for k, n in _counts(durations).items()}
        for b, n in buckets.items():
            all_buckets[b] = all_buckets.get(b, 0) + n
        p = percentiles(buckets)
        samples[q] = Sample(
            sent=a.totalsent,
            received=a.totalrecv,
            acked=c.get("acked", 0),
            failed=c.get("failed", 0),
            dead=c.get("dead", 0),
            visible=a.visible,
            in_flight=a.in_flight,
            delayed=a.delayed,
            oldest_age=a.oldest_age,
            p50=p[0],
            p95=p[1],
            p99=p[2],
            handled=sum(buckets.values()),
        )
    writes: list[Call[Any] | tuple[Any, ...]] = [
        write_call(keys, q, now_ms, s, cfg) for q, s in samples.items()
    ]
    if total:
        writes.append(write_call(keys, TOTAL, now_ms, _merge(samples.values(), all_buckets), cfg))
    new = 0
    for r in run_pipeline(client, writes):
        if isinstance(r, Exception):
            raise r
        new += int(r[0])
    return new


class Sampler:
    """Remembers, per connection, namespace and set of queues, the last minute this
    process sampled, so that only the first read of stats in a minute pays for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[tuple[int, str, bool, int], int] = {}

    @staticmethod
    def _key(
        client: redis.Redis, keys: Keys, total: bool, qnames: Iterable[str]
    ) -> tuple[int, str, bool, int]:
        return (id(client), keys.namespace, total, hash(tuple(sorted(qnames))))

    def due(
        self,
        client: redis.Redis,
        keys: Keys,
        now_ms: int,
        *,
        total: bool,
        qnames: Iterable[str] = (),
    ) -> bool:
        with self._lock:
            return self._done.get(self._key(client, keys, total, qnames)) != now_ms // 60_000

    def done(
        self,
        client: redis.Redis,
        keys: Keys,
        now_ms: int,
        *,
        total: bool,
        qnames: Iterable[str] = (),
    ) -> None:
        minute = now_ms // 60_000
        with self._lock:
            if len(self._done) > 100:  # forget other minutes' entries (many filters)
                self._done = {k: m for k, m in self._done.items() if m >= minute}
            self._done[self._key(client, keys, total, qnames)] = minute


# -- reading -----------------------------------------------------------------------------


def redis_ms(client: redis.Redis) -> int:
    sec, usec = client.time()
    return int(sec) * 1000 + int(usec) // 1000


def read(
    client: redis.Redis,
    keys: Keys,
    series: str,
    cfg: HistoryConfig,
    *,
    resolution: str = "m",
    count: int = 60,
    now_ms: int | None = None,
) -> list[Point]:
    """The last ``count`` minutes (``resolution="m"``) or hours (``"h"``) of ``series``,
    oldest first, one :class:`Point` per bucket that has a record (gaps are skipped)."""
    slots = cfg.minutes if resolution == "m" else cfg.hours
    width = 60_000 if resolution == "m" else 3_600_000
    if now_ms is None:
        now_ms = redis_ms(client)
    last = now_ms // width
    count = max(1, min(count, slots - 1))
    first = last - count  # one more: the rates of the first point shown
    key = keys.history(series, resolution)
    size = RECORD.size
    a, b = first % slots, last % slots
    if a <= b:
        data = client.execute_command(  # type: ignore[no-untyped-call]
            "GETRANGE", key, a * size, (b + 1) * size - 1, **RAW
        )
        chunks = [(a, data)]
    else:  # the range wraps around the ring's end
        pipe = client.pipeline(transaction=False)
        pipe.execute_command("GETRANGE", key, a * size, slots * size - 1, **RAW)  # type: ignore[no-untyped-call]
        pipe.execute_command("GETRANGE", key, 0, (b + 1) * size - 1, **RAW)  # type: ignore[no-untyped-call]
        tail, head = pipe.execute()
        chunks = [(a, tail), (0, head)]
    by_stamp: dict[int, Sample] = {}
    for start, data in chunks:
        for i in range(len(data) // size):
            stamp, s = Sample.unpack(data[i * size : (i + 1) * size])
            if first <= stamp <= last and stamp % slots == (start + i) % slots:
                by_stamp[stamp] = s
    points: list[Point] = []
    prev: tuple[int, Sample] | None = None
    per_minute = width / 60_000
    for stamp in range(first, last + 1):
        got = by_stamp.get(stamp)
        if got is None:
            continue
        s = got
        rates: dict[str, float | None] = {}
        if prev is not None:
            span = (stamp - prev[0]) * per_minute
            for name in ("sent", "received", "acked", "failed", "dead"):
                cur, old = getattr(s, name), getattr(prev[1], name)
                rates[f"{name}_per_minute"] = None if cur < old else round((cur - old) / span, 2)
        if stamp > first:
            points.append(Point(at=stamp * width / 1000, sample=s, **rates))
        prev = (stamp, s)
    return points
