"""Engine test fixtures; ``front``/``make_front`` run a test against both front ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import redis

from django_rsmq.engine import RSMQ, Keys
from django_rsmq.testing import TestRedis

from .fronts import open_front


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


@pytest.fixture(params=["sync", "async"])
def front_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_front(
    front_kind: str, test_redis: TestRedis, namespace: str
) -> Iterator[Callable[..., Any]]:
    """``make_front(realtime=..., poll_interval=...)``: an RSMQ or an adapted AsyncRSMQ
    on this test's namespace; several may be opened, all are closed after the test."""
    with ExitStack() as stack:

        def make(**options: Any) -> Any:
            options.setdefault("namespace", namespace)
            return stack.enter_context(open_front(front_kind, test_redis.url, **options))

        yield make


@pytest.fixture
def front(make_front: Callable[..., Any]) -> Any:
    """A realtime front end (RSMQ or AsyncRSMQ) on this test's namespace."""
    return make_front(realtime=True)
