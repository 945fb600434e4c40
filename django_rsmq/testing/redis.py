"""A real Redis for tests: an external URL, or a ``redis-server`` child process."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from ..engine.server import RedisServer

__all__ = ["TestRedis", "redis_for_tests", "unique_namespace"]


class TestRedis:
    """The Redis a test session uses. ``server`` is ``None`` for an external URL,
    in which case fault helpers (stop/kill/restart) are unavailable."""

    __test__ = False  # not a pytest test class

    def __init__(self, url: str, server: RedisServer | None = None) -> None:
        self.url = url
        self.server = server

    def client(self, **kwargs: object) -> redis.Redis:
        return redis.Redis.from_url(self.url, **kwargs)


@contextmanager
def redis_for_tests(*, appendonly: bool = False) -> Iterator[TestRedis]:
    url = os.environ.get("RSMQ_TEST_REDIS_URL")
    if url and not appendonly:
        yield TestRedis(url)
        return
    with tempfile.TemporaryDirectory(prefix="rsmq-test-redis-") as tmp:
        server = RedisServer(Path(tmp), appendonly=appendonly)
        server.start()
        try:
            yield TestRedis(server.url, server)
        finally:
            server.kill()


def unique_namespace(prefix: str = "t") -> str:
    """A fresh RSMQ namespace, so tests sharing one server never see each other's keys."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"
