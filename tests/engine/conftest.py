from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from django_rsmq.engine import RSMQ, Keys
from django_rsmq.testing import TestRedis


@pytest.fixture
def raw(test_redis: TestRedis) -> Iterator[redis.Redis]:
    """A decode_responses=True client for looking at what the engine wrote."""
    client = test_redis.client(decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def keys(namespace: str) -> Keys:
    return Keys(namespace)


@pytest.fixture
def q(rsmq: RSMQ) -> str:
    """A fresh queue named "q" with the defaults (vt 30, delay 0, maxsize 65536)."""
    rsmq.create_queue("q")
    return "q"
