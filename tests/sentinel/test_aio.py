"""The asyncio front end through a planned failover: nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter

import redis

from django_rsmq.engine import RSMQ, AsyncRSMQ
from django_rsmq.engine.aio.sentinel import sentinel_master

from .group import SERVICE, SentinelGroup


async def test_asyncio_planned_failover_loses_no_acknowledged_send(
    sentinel_group: SentinelGroup, namespace: str
) -> None:
    g = sentinel_group
    client = sentinel_master(g.addresses, SERVICE, socket_timeout=2, socket_connect_timeout=1)
    mq = AsyncRSMQ(client, namespace=namespace, realtime=True)
    await mq.create_queue("q")
    acked: list[int] = []
    processed: list[int] = []
    ack_times: list[float] = []
    errors: list[str] = []
    stop = asyncio.Event()

    async def produce() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                await mq.send("q", str(n))
            except Exception as exc:
                errors.append(type(exc).__name__)
            else:
                acked.append(n)
                ack_times.append(time.monotonic())
            await asyncio.sleep(0.003)

    async def consume() -> None:
        while not stop.is_set():
            try:
                m = await mq.receive("q", vt=60, wait=0.2)
                if m is None:
                    continue
                await asyncio.sleep(0.006)  # behind the producer
                await mq.delete("q", m.id)
                processed.append(int(m.body))
            except Exception as exc:
                errors.append(type(exc).__name__)
                await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(produce()), asyncio.create_task(consume())]

    async def until(pred: object, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not pred():  # type: ignore[operator]
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.01)

    await until(lambda: len(acked) > 200, 10)
    old = await asyncio.to_thread(g.failover)
    await asyncio.to_thread(g.wait_master_not, old)
    mark = len(acked)
    await until(lambda: len(acked) > mark + 300, 15)
    stop.set()
    await asyncio.gather(*tasks)
    await mq.aclose()
    await client.aclose()

    host, port = g.master_address()
    truth = RSMQ(redis.Redis(host=host, port=port), namespace=namespace)
    left: list[int] = []  # still in the queue, visible or not
    while page := truth.peek("q", offset=len(left), limit=1000):
        left.extend(int(m.body) for m in page)
    seen = set(processed) | set(left)
    lost = [n for n in acked if n not in seen]
    dup = sum(c - 1 for c in Counter(processed + left).values() if c > 1)
    gaps = [b - a for a, b in itertools.pairwise(ack_times)]
    print(
        f"sent={len(acked)} processed={len(set(processed))} lost={len(lost)} "
        f"duplicated={dup} outage={max(gaps, default=0):.2f} errors={len(errors)}"
    )
    assert not lost
    assert dup <= 5


async def test_asyncio_long_poll_waiting_through_the_switch_wakes_on_the_new_master(
    sentinel_group: SentinelGroup, namespace: str
) -> None:
    g = sentinel_group
    client = sentinel_master(g.addresses, SERVICE, socket_timeout=2, socket_connect_timeout=1)
    mq = AsyncRSMQ(client, namespace=namespace, realtime=True)
    await mq.create_queue("q")
    poll = asyncio.create_task(mq.receive("q", wait=15))
    deadline = time.monotonic() + 5
    while not (mq._listener is not None and mq._listener.subs.needs):
        assert time.monotonic() < deadline, "the poll never waited"
        await asyncio.sleep(0.01)
    old = await asyncio.to_thread(g.failover)
    new = await asyncio.to_thread(g.wait_master_not, old)
    while client.connection_pool.master_watch.address != new:
        await asyncio.sleep(0.01)
    producer = RSMQ(redis.Redis(host=new[0], port=new[1]), namespace=namespace, realtime=True)
    sent_at = time.monotonic()
    mid = producer.send("q", "hello")
    got = await asyncio.wait_for(poll, 15)
    waited = time.monotonic() - sent_at
    assert got is not None
    assert got.id == mid
    assert waited < 2.5, f"woken {waited:.1f}s after the send"
    producer.client.close()
    await mq.aclose()
    await client.aclose()
