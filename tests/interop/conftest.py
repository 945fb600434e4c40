from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from django_rsmq.testing import TestRedis


@pytest.fixture
def raw_client(test_redis: TestRedis) -> Iterator[redis.Redis]:
    client = test_redis.client(decode_responses=True)
    yield client
    client.close()
