"""One test body for both front ends: a sync adapter over RSMQ or over AsyncRSMQ.

The async adapter runs an event loop in a thread of its own and calls each
coroutine there, so a test can call it from several threads at once (each call
becomes a concurrent task on the loop) exactly like the sync RSMQ.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis.asyncio

from django_rsmq.engine import RSMQ, AsyncRSMQ


class AsyncFront:
    """Calls AsyncRSMQ's coroutines on a private loop; looks like RSMQ to a test."""

    def __init__(self, url: str, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.mq = AsyncRSMQ(redis.asyncio.Redis.from_url(url), **options)

    def run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __getattr__(self, name: str) -> Any:
        return _synced(getattr(self.mq, name), self.run)

    def close(self) -> None:
        self.run(self.mq.aclose())
        self.run(self.mq.client.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class _Synced:
    """An AsyncQueue handle seen through the adapter."""

    def __init__(self, obj: Any, run: Callable[[Any], Any]) -> None:
        self._obj, self._run = obj, run

    def __getattr__(self, name: str) -> Any:
        return _synced(getattr(self._obj, name), self._run)


def _synced(attr: Any, run: Callable[[Any], Any]) -> Any:
    if asyncio.iscoroutinefunction(attr):
        return lambda *args, **kwargs: run(attr(*args, **kwargs))
    if callable(attr) and getattr(attr, "__name__", "") == "queue":
        return lambda *args, **kwargs: _Synced(attr(*args, **kwargs), run)
    return attr


@contextmanager
def open_front(kind: str, url: str, **options: Any) -> Iterator[Any]:
    if kind == "sync":
        mq = RSMQ(redis.Redis.from_url(url), **options)
        try:
            yield mq
        finally:
            mq.close()
            mq.client.close()
    else:
        front = AsyncFront(url, **options)
        try:
            yield front
        finally:
            front.close()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Bounded wait for a condition we cannot be notified of (e.g. PUBSUB NUMSUB)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.005)


class Background:
    """Run ``fn`` in a thread; ``result()`` joins with a bound and re-raises."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self.finished: float | None = None
        self.thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self.thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self.value = fn()
        except BaseException as exc:
            self.error = exc
        finally:
            self.finished = time.monotonic()

    def result(self, timeout: float = 15.0) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"still running after {timeout}s"
        if self.error is not None:
            raise self.error
        return self.value

    @property
    def elapsed(self) -> float:
        assert self.finished is not None
        return self.finished - self.started
