"""The consumer's share of the metrics history: acks, failures, dead-letterings and
handler durations counted in memory and written by the heartbeat thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from django_rsmq import send
from django_rsmq.conf import rsmq_settings
from django_rsmq.connections import get_rsmq
from django_rsmq.consumer import Consumer
from django_rsmq.engine import Message
from django_rsmq.engine import history as h
from django_rsmq.engine.registry import server_time
from django_rsmq.handlers import registry


@pytest.fixture
def handler() -> Iterator[list[Message]]:
    handled: list[Message] = []

    def handle(message: Message) -> None:
        handled.append(message)
        if message.body == "boom":
            raise ValueError("boom")

    registry.register("emails", handle)
    try:
        yield handled
    finally:
        registry.unregister("emails")


def test_a_burst_consumer_writes_counts_durations_and_a_history_record(
    handler: list[Message],
) -> None:
    for i in range(5):
        send("emails", f"m{i}")
    send("emails", "boom")  # MAX_RECEIVES 2 (tests/admin/conftest.py): fails, retried, dead
    consumer = Consumer(["emails"], burst=True, verbosity=0)
    assert consumer.run() == 0
    r = get_rsmq()
    keys = r.protocol.keys
    counts = {
        k.decode(): int(v) for k, v in r.client.hgetall(keys.history_counts("emails")).items()
    }
    assert counts["acked"] == 5
    assert counts["failed"] >= 1
    now_ms = int(server_time(r.client.time()) * 1000)
    cfg = rsmq_settings().history.config()
    minute_record = h.read(r.client, keys, "emails", cfg, count=2, now_ms=now_ms)
    assert minute_record  # sampled at the consumer's first heartbeat
    # The durations of this minute go into the next minute's record.
    durations = r.client.hgetall(keys.history_durations("emails", now_ms // 60_000))
    later = now_ms + 60_000
    if not durations:  # the minute turned between the last ack and now
        later = now_ms
    h.sample(r.client, keys, ["emails"], cfg, now_ms=later)
    (point,) = h.read(r.client, keys, "emails", cfg, count=1, now_ms=later)
    assert point.sample.acked == 5
    assert point.sample.handled == 5
    assert point.sample.p50 is not None
    assert point.sample.p50 < 5.0


def test_counts_a_beat_could_not_write_wait_for_the_next() -> None:
    counts = h.DurationCounts()
    counts.acked("emails", 0.01)
    taken = counts.take()
    counts.acked("emails", 0.02)
    counts.put_back(taken)
    again = counts.take()
    assert again["emails"][0] == 2
    assert sum(again["emails"][3].values()) == 2
