"""The asyncio mirror of the reliability methods (AsyncReliabilityMethods), run over
redis.asyncio with a minimal front end until the full asyncio front end mixes it in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeVar

import pytest
import redis.asyncio
from redis.exceptions import NoScriptError

from django_rsmq.engine import RSMQ, StaleReceipt
from django_rsmq.engine.protocol import Call, Protocol
from django_rsmq.engine.reliability_methods import AsyncReliabilityMethods
from django_rsmq.engine.serializers import Serializer, get_serializer
from django_rsmq.testing import TestRedis

T = TypeVar("T")


class AsyncFront(AsyncReliabilityMethods):
    def __init__(self, url: str, namespace: str) -> None:
        self.client = redis.asyncio.Redis.from_url(url)
        self.protocol = Protocol(namespace)
        self.serializer = get_serializer(None)

    def _serializer(self, serializer: str | Serializer | None) -> Serializer:
        return self.serializer if serializer is None else get_serializer(serializer)

    async def _run(self, call: Call[T]) -> T:
        keys: Any = call.keys
        try:
            reply = await self.client.evalsha(call.script.sha, len(keys), *keys, *call.args)
        except NoScriptError:
            reply = await self.client.eval(call.script.source, len(keys), *keys, *call.args)
        return call.parse(reply)


@pytest.fixture
async def front(test_redis: TestRedis, namespace: str) -> AsyncIterator[AsyncFront]:
    f = AsyncFront(test_redis.url, namespace)
    yield f
    await f.client.aclose()


async def test_async_mirror(rsmq: RSMQ, front: AsyncFront) -> None:
    rsmq.create_queue("q", max_receives=2, retention=3600)
    mid = rsmq.send("q", {"n": 1})
    m = rsmq.receive("q")
    assert m is not None
    assert await front.nack(m.receipt, delay=0) == 0.0
    with pytest.raises(StaleReceipt):
        await front.nack("q:" + mid + ":7")
    m = rsmq.receive("q")
    assert m is not None
    res = await front.fail(m.receipt, ValueError("async boom"))
    assert res.dead_lettered
    page = await front.failed("q", exc_type="ValueError")
    assert page.total == 1
    rec = await front.failed_record("q", res.record_id)
    assert rec.body == {"n": 1}
    info = await front.dead_letter_info("q-dlq", mid)
    assert info is not None
    assert (info.queue, info.rc, info.error) == ("q", 2, "async boom")
    plain = rsmq.send("q-dlq", "put there by a plain RSMQ client")
    rsmq.create_queue("triage")
    moved = await front.redrive("q-dlq", reset_rc=True, default_to="triage")
    assert sorted(moved.moved) == sorted([mid, plain])
    assert [m.id for m in rsmq.peek("triage")] == [plain]
    requeued = await front.requeue_failed("q")
    assert requeued.moved == [res.record_id]
    assert await front.delete_failed("q") == 0
    assert await front.purge_expired("q") == 0
    await front.sweep("q")
    assert rsmq.get_queue_attributes("q").msgs == 2
