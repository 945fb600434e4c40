"""The fault proxy itself: a dropped reply means the command ran and the client failed."""

from __future__ import annotations

import pytest
import redis

from django_rsmq.testing import TestRedis
from tests.faults.proxy import FaultProxy


def test_dropped_reply_ran_in_redis_and_the_client_saw_a_connection_error(
    test_redis: TestRedis, namespace: str
) -> None:
    direct = test_redis.client()
    with FaultProxy(direct.connection_pool.connection_kwargs["port"]) as proxy:
        client = redis.Redis.from_url(proxy.url, retry_on_error=[], retry=None)
        key = f"{namespace}:n"
        assert client.incr(key) == 1
        proxy.drop_reply_after(b"INCR")
        with pytest.raises(redis.ConnectionError):
            client.incr(key)
        assert proxy.dropped == 1
        assert direct.get(key) == b"2"  # it ran: only the reply was lost
        assert client.incr(key) == 3  # a new connection through the proxy works
        accepted = proxy.accepted
        assert proxy.cut() >= 1
        assert client.ping()  # redis-py notices the cut socket and opens a new one
        assert proxy.accepted == accepted + 1
        client.close()
    direct.close()
