"""The stored metrics history (engine/history.py) on a real Redis."""

from __future__ import annotations

import threading

import redis

from django_rsmq.engine import RSMQ, Keys
from django_rsmq.engine import history as h

CFG = h.HistoryConfig(minutes=1440, hours=720)
T0 = 1_800_000_000_000 - 1_800_000_000_000 % 3_600_000  # an hour's start, epoch ms


def test_a_sample_round_trips_and_rates_come_from_consecutive_minutes(
    rsmq: RSMQ, redis_client: redis.Redis, keys: Keys
) -> None:
    rsmq.create_queue("q")
    for i in range(3):
        rsmq.send("q", f"m{i}")
    assert h.sample(redis_client, keys, ["q"], CFG, now_ms=T0, total=True) == 2
    for i in range(6):
        rsmq.send("q", f"n{i}")
    rsmq.receive("q")
    assert h.sample(redis_client, keys, ["q"], CFG, now_ms=T0 + 120_000) == 1
    points = h.read(redis_client, keys, "q", CFG, count=5, now_ms=T0 + 150_000)
    assert [p.at * 1000 for p in points] == [T0, T0 + 120_000]
    last = points[-1]
    assert (last.sample.sent, last.sample.received) == (9, 1)
    assert (last.sample.visible, last.sample.in_flight) == (8, 1)
    assert last.sent_per_minute == 3.0  # 6 sent over 2 minutes
    assert last.received_per_minute == 0.5
    assert points[0].sent_per_minute is None
    total = h.read(redis_client, keys, h.TOTAL, CFG, count=5, now_ms=T0 + 30_000)
    assert [p.sample.sent for p in total] == [3]


def test_sampling_is_idempotent_per_minute_with_many_writers(
    rsmq: RSMQ, test_redis: object, redis_client: redis.Redis, keys: Keys
) -> None:
    rsmq.create_queue("q")
    rsmq.send("q", "a")
    clients = [test_redis.client() for _ in range(8)]  # type: ignore[attr-defined]
    results: list[int] = []
    barrier = threading.Barrier(len(clients))

    def writer(c: redis.Redis, offset: int) -> None:
        barrier.wait(timeout=10)
        results.append(h.sample(c, keys, ["q"], CFG, now_ms=T0 + offset, total=True))

    threads = [threading.Thread(target=writer, args=(c, i * 1000)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    rsmq.send("q", "b")  # may land before or after the winner read: either is fine
    for t in threads:
        t.join(10)
    for c in clients:
        c.close()
    assert sorted(results) == [0] * 7 + [2]  # one minute slot (+ the total's) written once
    points = h.read(redis_client, keys, "q", CFG, count=3, now_ms=T0 + 50_000)
    assert len(points) == 1


def test_memory_per_queue_is_bounded_by_the_ring_size(
    rsmq: RSMQ, redis_client: redis.Redis, keys: Keys
) -> None:
    rsmq.create_queue("q")
    cfg = h.HistoryConfig(minutes=1440, hours=720)
    # A day and a half of minutes and 40 days of hours: every slot used, rings wrapped.
    for m in range(0, 36 * 60, 7):
        h.sample(redis_client, keys, ["q"], cfg, now_ms=T0 + m * 60_000)
    for hour in range(0, 40 * 24, 5):
        h.sample(redis_client, keys, ["q"], cfg, now_ms=T0 + hour * 3_600_000 + 59_000)
    used = sum(int(redis_client.memory_usage(keys.history("q", r)) or 0) for r in ("m", "h"))
    assert redis_client.strlen(keys.history("q", "m")) == 1440 * h.RECORD.size
    assert redis_client.strlen(keys.history("q", "h")) == 720 * h.RECORD.size
    assert h.memory_per_series(cfg) == 164_160
    assert used <= 180_000  # what docs/admin.md states per queue


def test_reads_skip_slots_of_another_minute_and_wrap_around_the_ring(
    rsmq: RSMQ, redis_client: redis.Redis, keys: Keys
) -> None:
    rsmq.create_queue("q")
    cfg = h.HistoryConfig(minutes=10, hours=5)
    for m in range(14):
        if m != 11:
            h.sample(redis_client, keys, ["q"], cfg, now_ms=T0 + m * 60_000)
    points = h.read(redis_client, keys, "q", cfg, count=9, now_ms=T0 + 13 * 60_000)
    assert [int(p.at * 1000 - T0) // 60_000 for p in points] == [5, 6, 7, 8, 9, 10, 12, 13]


def test_consumer_counts_and_durations_reach_the_next_minutes_record(
    rsmq: RSMQ, redis_client: redis.Redis, keys: Keys
) -> None:
    rsmq.create_queue("q")
    counts = h.DurationCounts()
    for i in range(100):
        counts.acked("q", 0.010 if i < 90 else 1.0)
    counts.failed("q")
    counts.failed("q")
    counts.dead("q")
    h.flush(redis_client, keys, counts.take(), T0 + 10_000, CFG)
    assert counts.take() == {}
    h.sample(redis_client, keys, ["q"], CFG, now_ms=T0 + 70_000)
    (p,) = h.read(redis_client, keys, "q", CFG, count=3, now_ms=T0 + 70_000)
    s = p.sample
    assert (s.acked, s.failed, s.dead, s.handled) == (100, 2, 1, 100)
    assert s.p50 is not None
    assert 0.009 <= s.p50 <= 0.0115
    assert s.p99 is not None
    assert 0.9 <= s.p99 <= 1.1


def test_percentiles_of_an_empty_histogram_are_unknown() -> None:
    assert h.percentiles({}) == [None, None, None]
    assert h.Sample().pack(5)[:4] == b"\0\0\0\x05"
    assert h.Sample.unpack(h.Sample(oldest_age=None).pack(7)) == (7, h.Sample())


def test_the_sampler_remembers_each_set_of_queues_per_minute(
    redis_client: redis.Redis, keys: Keys
) -> None:
    s = h.Sampler()
    assert s.due(redis_client, keys, T0, total=False, qnames=["a"])
    s.done(redis_client, keys, T0, total=False, qnames=["a"])
    assert not s.due(redis_client, keys, T0 + 59_000, total=False, qnames=["a"])
    assert s.due(redis_client, keys, T0 + 59_000, total=False, qnames=["b"])
    assert s.due(redis_client, keys, T0 + 59_000, total=True, qnames=["a"])
    assert s.due(redis_client, keys, T0 + 60_000, total=False, qnames=["a"])


def test_rings_expire_after_their_retention(
    rsmq: RSMQ, redis_client: redis.Redis, keys: Keys
) -> None:
    rsmq.create_queue("q")
    cfg = h.HistoryConfig(minutes=120, hours=48)
    h.sample(redis_client, keys, ["q"], cfg, now_ms=T0)
    assert 0 < redis_client.pttl(keys.history("q", "m")) <= 120 * 60_000
    assert 120 * 60_000 < redis_client.pttl(keys.history("q", "h")) <= 48 * 3_600_000
    assert h.sample(redis_client, keys, ["gone"], cfg, now_ms=T0) == 0  # no such queue
    assert not redis_client.exists(keys.history("gone", "m"))
