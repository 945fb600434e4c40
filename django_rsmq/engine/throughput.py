"""Throughput from counter samples: messages sent / received per minute.

RSMQ keeps only running totals (``totalsent``, ``totalrecv``). Whoever reads stats
calls :func:`sample_rates` with the current totals: it stores a sample (at most one
every ``every`` seconds) in a small sorted set (``Keys.counter_samples``), and
returns the rates against the newest sample at least a minute old — or, while the
history is younger than that, the oldest one at least ``every`` seconds old. Samples
older than ``keep`` seconds are trimmed; the key expires when nobody reads stats.

Samples are timed by Redis ``TIME`` (read in the same round trip as the history), not
by the reader's clock: readers on several hosts share the samples, and rates must not
mix their clocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from .keys import Keys

__all__ = ["Rates", "sample_rates", "sample_rates_many"]


@dataclass(frozen=True, slots=True)
class Rates:
    """Per-minute rates, ``None`` until there is a sample old enough to compare with."""

    sent_per_minute: float | None = None
    received_per_minute: float | None = None


def _parse(member: Any) -> tuple[int, int, int] | None:
    text = member.decode() if isinstance(member, bytes) else str(member)
    try:
        t, sent, received = (int(p) for p in text.split(":"))
    except ValueError:
        return None
    return t, sent, received


def _rate(now_ms: int, cur: int, then_ms: int, old: int) -> float | None:
    if cur < old or now_ms <= then_ms:  # counters reset (queue recreated)
        return None
    return round((cur - old) * 60_000 / (now_ms - then_ms), 2)


def _rates_from(
    rows: list[Any], now_ms: int, sent: int, received: int, every: float, keep: float
) -> tuple[Rates, bool]:
    """The rates against the stored samples, and whether to store a new one."""
    oldest = now_ms - int(keep * 1000)
    samples = [s for s in (_parse(m) for m in rows) if s is not None and s[0] >= oldest]
    store = not samples or now_ms - samples[-1][0] >= every * 1000
    minute_old = [s for s in samples if s[0] <= now_ms - 60_000]
    young = [s for s in samples if s[0] <= now_ms - every * 1000]
    base = minute_old[-1] if minute_old else (young[0] if young else None)
    if base is None:
        return Rates(), store
    rates = Rates(_rate(now_ms, sent, base[0], base[1]), _rate(now_ms, received, base[0], base[2]))
    return rates, store


def sample_rates_many(
    client: redis.Redis,
    keys: Keys,
    totals: dict[str, tuple[int, int]],
    *,
    every: float = 5.0,
    keep: float = 300.0,
) -> tuple[dict[str, Rates], int]:
    """:func:`sample_rates` of many queues (``{qname: (sent, received)}``) in two round
    trips whatever their number; also returns the Redis time (epoch ms) it used."""
    read = client.pipeline(transaction=False)
    read.time()
    names = list(totals)
    for q in names:
        read.zrange(keys.counter_samples(q), 0, -1)
    time_reply, *all_rows = read.execute()
    sec, usec = time_reply
    now_ms = int(sec) * 1000 + int(usec) // 1000
    out: dict[str, Rates] = {}
    pipe = client.pipeline(transaction=False)
    for q, rows in zip(names, all_rows, strict=True):
        sent, received = totals[q]
        out[q], store = _rates_from(rows, now_ms, sent, received, every, keep)
        if store:  # trimmed and kept alive when a sample is stored (every ``every`` s)
            key = keys.counter_samples(q)
            pipe.zadd(key, {f"{now_ms}:{sent}:{received}": now_ms})
            pipe.zremrangebyscore(key, "-inf", now_ms - int(keep * 1000) - 1)
            pipe.pexpire(key, int(keep * 2000))
    if len(pipe):
        pipe.execute()
    return out, now_ms


def sample_rates(
    client: redis.Redis,
    keys: Keys,
    qname: str,
    sent: int,
    received: int,
    *,
    every: float = 5.0,
    keep: float = 300.0,
    now: float | None = None,
) -> Rates:
    """Record the totals (if the last sample is ``every`` s old) and return the rates.

    ``now`` (epoch seconds) replaces Redis ``TIME`` (tests only)."""
    key = keys.counter_samples(qname)
    read = client.pipeline(transaction=False)
    read.time()
    read.zrange(key, 0, -1)
    time_reply, rows = read.execute()
    if now is None:
        sec, usec = time_reply
        now_ms = int(sec) * 1000 + int(usec) // 1000
    else:
        now_ms = int(now * 1000)
    oldest = now_ms - int(keep * 1000)
    samples = [s for s in (_parse(m) for m in rows) if s is not None and s[0] >= oldest]
    pipe = client.pipeline(transaction=False)
    if not samples or now_ms - samples[-1][0] >= every * 1000:
        pipe.zadd(key, {f"{now_ms}:{sent}:{received}": now_ms})
    pipe.zremrangebyscore(key, "-inf", now_ms - int(keep * 1000) - 1)
    pipe.pexpire(key, int(keep * 2000))
    pipe.execute()
    minute_old = [s for s in samples if s[0] <= now_ms - 60_000]
    young = [s for s in samples if s[0] <= now_ms - every * 1000]
    base = minute_old[-1] if minute_old else (young[0] if young else None)
    if base is None:
        return Rates()
    return Rates(_rate(now_ms, sent, base[0], base[1]), _rate(now_ms, received, base[0], base[2]))
