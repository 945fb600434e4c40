"""Handler durations and the counts the scripts do not keep, as the consumers gather
them for the metrics history (:mod:`django_rsmq.engine.history`).

A consumer counts, per queue, its acks (each with its handler duration), failures and
dead-letterings in memory (:class:`DurationCounts`); its heartbeat thread adds them to
Redis in one pipeline (:func:`flush`): running totals in ``Keys.history_counts`` and a
log-scale histogram of the minute's durations (4 buckets per doubling of microseconds,
so an estimate is within about 10 %) in ``Keys.history_durations``. The next minute's
history record takes its percentiles from that histogram (:func:`percentiles`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from .keys import Keys

__all__ = ["DurationCounts", "bucket", "bucket_value", "flush", "percentiles"]

_STEPS_PER_DOUBLING = 4


def bucket(seconds: float) -> int:
    """The histogram bucket of a duration: 4 per doubling of microseconds."""
    us = max(1.0, seconds * 1e6)
    return int(math.log2(us) * _STEPS_PER_DOUBLING)


def bucket_value(index: int) -> float:
    """A bucket's representative duration in seconds (its geometric middle)."""
    return float(2 ** ((index + 0.5) / _STEPS_PER_DOUBLING) / 1e6)


def percentiles(
    counts: Mapping[int, int], qs: Sequence[float] = (0.5, 0.95, 0.99)
) -> list[float | None]:
    """Percentiles (seconds) of a bucket -> count histogram (``None`` when empty)."""
    total = sum(counts.values())
    if total <= 0:
        return [None] * len(qs)
    out: list[float | None] = []
    ordered = sorted(counts.items())
    for q in qs:
        rank, seen = q * total, 0
        for index, n in ordered:
            seen += n
            if seen >= rank:
                out.append(bucket_value(index))
                break
    return out


@dataclass
class DurationCounts:
    """A consumer's counts since its last flush, per queue (thread-safe)."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _by_queue: dict[str, list[Any]] = field(default_factory=dict)

    def _entry(self, queue: str) -> list[Any]:
        e = self._by_queue.get(queue)
        if e is None:
            e = self._by_queue[queue] = [0, 0, 0, {}]  # acked, failed, dead, buckets
        return e

    def acked(self, queue: str, duration: float) -> None:
        with self._lock:
            e = self._entry(queue)
            e[0] += 1
            b = bucket(duration)
            e[3][b] = e[3].get(b, 0) + 1

    def failed(self, queue: str) -> None:
        with self._lock:
            self._entry(queue)[1] += 1

    def dead(self, queue: str) -> None:
        with self._lock:
            self._entry(queue)[2] += 1

    def take(self) -> dict[str, list[Any]]:
        """Everything counted so far; the counts start again from zero."""
        with self._lock:
            out, self._by_queue = self._by_queue, {}
        return out

    def put_back(self, taken: dict[str, list[Any]]) -> None:
        """Counts :meth:`take` returned that could not be written (Redis down)."""
        with self._lock:
            for queue, (a, f, d, buckets) in taken.items():
                e = self._entry(queue)
                e[0] += a
                e[1] += f
                e[2] += d
                for b, n in buckets.items():
                    e[3][b] = e[3].get(b, 0) + n


def flush(
    client: redis.Redis,
    keys: Keys,
    taken: Mapping[str, list[Any]],
    now_ms: int,
    keep_ms: int,
) -> None:
    """Add a consumer's counts to Redis in one pipeline (``now_ms``: Redis time); the
    running totals live ``keep_ms`` after the last flush."""
    if not taken:
        return
    minute = now_ms // 60_000
    keep = keep_ms
    pipe = client.pipeline(transaction=False)
    for queue, (acked, failed, dead, buckets) in taken.items():
        ck = keys.history_counts(queue)
        for name, n in (("acked", acked), ("failed", failed), ("dead", dead)):
            if n:
                pipe.hincrby(ck, name, n)
        pipe.pexpire(ck, keep)
        if buckets:
            dk = keys.history_durations(queue, minute)
            for b, n in buckets.items():
                pipe.hincrby(dk, str(b), n)
            pipe.pexpire(dk, 180_000)
    pipe.execute()
