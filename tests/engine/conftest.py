"""Fixtures for the engine tests that run against both front ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from django_rsmq.testing import TestRedis

from .fronts import open_front


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
