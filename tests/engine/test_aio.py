"""What only the asyncio front end has: ``async with`` and cancellation of a long poll.

Everything else runs against both front ends in the other test modules.
"""

from __future__ import annotations

import asyncio

import redis
import redis.asyncio

from django_rsmq.engine import AsyncRSMQ
from django_rsmq.testing import TestRedis


async def test_cancelled_long_poll_releases_its_subscription(
    test_redis: TestRedis, namespace: str, redis_client: redis.Redis
) -> None:
    client = redis.asyncio.Redis.from_url(test_redis.url)
    async with AsyncRSMQ(client, namespace=namespace, realtime=True) as mq:
        await mq.create_queue("q")
        chan = f"{namespace}:rt:q"
        task = asyncio.ensure_future(mq.receive("q", wait=30))
        async with asyncio.timeout(5):
            while redis_client.pubsub_numsub(chan)[0][1] < 1:
                await asyncio.sleep(0.005)
        task.cancel()
        async with asyncio.timeout(5):
            while redis_client.pubsub_numsub(chan)[0][1] > 0:
                await asyncio.sleep(0.005)
        assert task.cancelled()
        # The listener still serves the next long poll.
        waiter = asyncio.ensure_future(mq.receive("q", wait=30))
        async with asyncio.timeout(5):
            while redis_client.pubsub_numsub(chan)[0][1] < 1:
                await asyncio.sleep(0.005)
        await mq.send("q", "next")
        async with asyncio.timeout(5):
            msg = await waiter
        assert msg is not None
        assert msg.body == "next"
    assert mq._listener is None
    await client.aclose()
