"""``purge(qname, chunk=N)`` (issue 16): at most N messages per script call, repeated until
the queue is empty, on the sync and asyncio front ends and the queue handle; a producer
sending meanwhile cannot keep it running; the one-script purge is unchanged."""

from __future__ import annotations

import threading

import pytest
import redis.asyncio

from django_rsmq.engine import RSMQ, AsyncRSMQ
from django_rsmq.engine.errors import InvalidValue, QueueNotFound
from django_rsmq.testing import TestRedis


def test_chunked_purge_deletes_everything_in_bounded_calls(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    rsmq.send_many("q", list(range(250)))
    assert rsmq.purge("q", chunk=100) == 250
    assert rsmq.get_queue_attributes("q").msgs == 0
    assert rsmq.purge("q", chunk=100) == 0  # an empty queue: one call, nothing to do
    rsmq.send_many("q", list(range(3)))
    assert rsmq.queue("q").purge(chunk=1) == 3
    rsmq.send_many("q", list(range(3)))
    assert rsmq.purge("q") == 3  # without chunk: one script, as before


def test_chunk_is_validated_and_an_unknown_queue_raises(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    for bad in (0, 1001, True, 2.5):
        with pytest.raises(InvalidValue):
            rsmq.purge("q", chunk=bad)  # type: ignore[arg-type]
    with pytest.raises(QueueNotFound):
        rsmq.purge("nope", chunk=10)


def test_one_chunk_leaves_the_rest_in_order(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    ids = [rsmq.send("q", i) for i in range(5)]
    order = [m.id for m in rsmq.peek("q")]
    assert sorted(order) == sorted(ids)
    removed, remaining = rsmq._run(rsmq.protocol.purge_chunk("q", 2))
    assert (removed, remaining) == (2, 3)
    assert [m.id for m in rsmq.peek("q")] == order[2:]


def test_a_producer_cannot_keep_a_chunked_purge_running(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    rsmq.send_many("q", list(range(200)))
    stop = threading.Event()
    producer = RSMQ(rsmq.client, namespace=rsmq.namespace)
    sent = []

    def produce() -> None:
        while not stop.is_set():
            sent.append(producer.send("q", "new"))

    t = threading.Thread(target=produce)
    t.start()
    try:
        removed = rsmq.purge("q", chunk=1)  # 200+ calls while the producer sends
        during = len(sent)
    finally:
        stop.set()
        t.join(10)
    assert during > 0  # the race happened, and the purge still returned:
    assert 200 <= removed <= 200 + during  # it stopped at the count of its first call


async def test_async_chunked_purge(test_redis: TestRedis, namespace: str) -> None:
    async with AsyncRSMQ(redis.asyncio.Redis.from_url(test_redis.url), namespace=namespace) as mq:
        await mq.create_queue("q")
        await mq.send_many("q", list(range(120)))
        assert await mq.purge("q", chunk=50) == 120
        assert (await mq.get_queue_attributes("q")).msgs == 0
