"""Run ``manage.py rsmq_consume`` as a real subprocess and follow it.

Waits are event-driven and bounded: stdout lines are read by a thread into a queue,
and Redis state (the handlers' event list, queue attributes) is polled against a
deadline.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.test import override_settings

from django_rsmq.engine import RSMQ, QueueNotFound
from django_rsmq.testing import TestRedis
from tests.settings import rsmq_setting

ROOT = Path(__file__).resolve().parents[2]


class ConsumerProcess:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.args = args
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "django", "rsmq_consume", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, needle: str, timeout: float = 20.0) -> str:
        """The first (not yet seen) output line containing ``needle``."""
        deadline = time.monotonic() + timeout
        for line in self.seen:
            if needle in line:
                self.seen.remove(line)
                return line
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line with {needle!r} within {timeout}s: {self.seen}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if needle in line:
                return line
            self.seen.append(line)

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 30.0) -> int:
        return self.proc.wait(timeout)

    def output(self) -> str:
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except queue.Empty:
                return "\n".join(self.seen)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class Env:
    """One test's namespace on the session Redis, seen by the test and its consumers."""

    def __init__(self, test_redis: TestRedis, namespace: str) -> None:
        self.url = test_redis.url
        self.namespace = namespace
        self.client: redis.Redis = test_redis.client(decode_responses=True)
        self.rsmq = RSMQ(test_redis.client(), namespace=namespace)
        self.procs: list[ConsumerProcess] = []

    def environ(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="tests.settings",
            RSMQ_TEST_URL=self.url,
            RSMQ_TEST_NAMESPACE=self.namespace,
            PYTHONUNBUFFERED="1",
            PYTHONPATH=str(ROOT),
            **extra,
        )
        return env

    def consumer(self, *args: str) -> ConsumerProcess:
        p = ConsumerProcess(list(args), self.environ())
        self.procs.append(p)
        return p

    def msgs(self, queue: str) -> int:
        """Messages in ``queue`` (0 while it does not exist yet)."""
        try:
            return self.rsmq.get_queue_attributes(queue).msgs
        except QueueNotFound:
            return 0

    @property
    def events_key(self) -> str:
        return f"test:{self.namespace}:events"

    def events(self, kind: str | None = None) -> list[list[str]]:
        rows = [e.split() for e in self.client.lrange(self.events_key, 0, -1)]
        return [r for r in rows if kind is None or r[0] == kind]

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition"
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.02)

    def wait_events(self, kind: str, n: int, timeout: float = 20.0) -> list[list[str]]:
        return self.wait_for(
            lambda: len(self.events(kind)) >= n and self.events(kind),
            timeout,
            f"{n} {kind!r} events (have {self.events()})",
        )


@pytest.fixture
def env(test_redis: TestRedis, namespace: str) -> Iterator[Env]:
    e = Env(test_redis, namespace)
    with override_settings(RSMQ=rsmq_setting(test_redis.url, namespace)):
        try:
            yield e
        finally:
            for p in e.procs:
                p.stop()
            e.client.close()
            e.rsmq.client.close()


SIGTERM = signal.SIGTERM
SIGINT = signal.SIGINT
