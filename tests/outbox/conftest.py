"""Real databases for the outbox tests: a file SQLite and a real PostgreSQL server.

``outbox_db`` is parametrized over both. Each database is added to Django's
connections at run time (``RSMQ_TEST_EXTRA_DBS`` hands it to relay subprocesses),
migrated once per session, and its outbox table emptied before each test. PostgreSQL
is started once per session (tests/pgserver.py); without its binaries its tests skip
locally, and fail under ``CI=true``.
"""

from __future__ import annotations

import json
import os
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
from django.conf import settings
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import override_settings

from django_rsmq.engine import RSMQ, QueueNotFound
from django_rsmq.testing import TestRedis
from tests.conftest import ON_CI
from tests.pgserver import PostgresNotFound, postgres_server
from tests.settings import rsmq_setting

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "obx"

_added: dict[str, dict[str, Any]] = {}


def add_database(alias: str, cfg: dict[str, Any]) -> None:
    """Make ``alias`` a Django database of this process, with its tables."""
    if alias in _added:
        return
    full = connections.configure_settings(
        {DEFAULT_DB_ALIAS: dict(connections.settings[DEFAULT_DB_ALIAS]), alias: dict(cfg)}
    )[alias]
    connections.settings[alias] = full
    settings.DATABASES[alias] = full
    call_command("migrate", database=alias, verbosity=0)
    _added[alias] = cfg


@pytest.fixture(scope="session")
def postgres() -> Iterator[dict[str, Any]]:
    try:
        with postgres_server() as cfg:
            yield cfg
    except PostgresNotFound as exc:
        if ON_CI:
            pytest.fail(f"CI=true and no PostgreSQL for the outbox tests: {exc}", pytrace=False)
        pytest.skip(f"no PostgreSQL for the outbox tests: {exc}")


@pytest.fixture(scope="session")
def sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("outbox-sqlite") / "outbox.sqlite3"
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox_db(
    request: pytest.FixtureRequest, django_db_blocker: Any, sqlite_file: dict[str, Any]
) -> Iterator[str]:
    """The alias of a real database with the outbox table, empty."""
    alias = f"outbox_{request.param}"
    cfg = sqlite_file if request.param == "sqlite" else request.getfixturevalue("postgres")
    with django_db_blocker.unblock():
        add_database(alias, cfg)
        from django_rsmq.outbox.model import OutboxMessage

        OutboxMessage.objects.using(alias).all().delete()
        yield alias
        for conn in connections.all():
            if conn.alias == alias:
                conn.close()


@pytest.fixture
def postgres_db(django_db_blocker: Any, postgres: dict[str, Any]) -> Iterator[str]:
    alias = "outbox_postgresql"
    with django_db_blocker.unblock():
        add_database(alias, postgres)
        from django_rsmq.outbox.model import OutboxMessage

        OutboxMessage.objects.using(alias).all().delete()
        yield alias
        connections[alias].close()


def outbox_setting(url: str, namespace: str, **outbox: Any) -> dict[str, Any]:
    setting = rsmq_setting(url, namespace)
    setting["QUEUES"] = {**setting["QUEUES"], QUEUE: {"OUTBOX": True}}  # type: ignore[dict-item]
    setting["OUTBOX"] = {"POLL_INTERVAL": 0.2, "BACKOFF_MAX": 0.5, "LEASE_TTL": 1, **outbox}
    return setting


class Box:
    """One test's Redis namespace and database, seen by the test and its relays."""

    def __init__(self, url: str, namespace: str, database: str) -> None:
        self.url = url
        self.namespace = namespace
        self.database = database
        self.rsmq = RSMQ(redis.Redis.from_url(url), namespace=namespace)
        self.procs: list[RelayProcess] = []

    def msgs(self, queue: str = QUEUE) -> int:
        try:
            return self.rsmq.get_queue_attributes(queue).msgs
        except QueueNotFound:
            return 0

    def bodies(self, queue: str = QUEUE) -> list[Any]:
        """Every message of ``queue`` (popped: each is read once)."""
        out: list[Any] = []
        while True:
            batch = self.rsmq.pop_many(queue, 1000) if self.msgs(queue) else []
            if not batch:
                return out
            out += [m.body for m in batch]

    def rows(self) -> int:
        from django_rsmq.outbox.model import OutboxMessage

        return OutboxMessage.objects.using(self.database).count()

    def environ(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="tests.settings",
            RSMQ_TEST_URL=self.url,
            RSMQ_TEST_NAMESPACE=self.namespace,
            RSMQ_TEST_EXTRA_DBS=json.dumps({self.database: _added[self.database]}),
            PYTHONUNBUFFERED="1",
            PYTHONPATH=str(ROOT),
        )
        return env

    def relay(self, *args: str) -> RelayProcess:
        p = RelayProcess([self.database, *args], self.environ())
        self.procs.append(p)
        return p


class RelayProcess:
    """``tests/outbox/relay_proc.py`` in a subprocess; its stdout lines in a list."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "outbox" / "relay_proc.py"), *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._new = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._new:
                self.lines.append(line.rstrip("\n"))
                self._new.notify_all()
        with self._new:
            self.lines.append("<eof>")
            self._new.notify_all()

    def wait_line(self, needle: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        with self._new:
            while True:
                for line in self.lines:
                    if needle in line:
                        return line
                if "<eof>" in self.lines:
                    raise AssertionError(f"relay exited without {needle!r}: {self.lines}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {needle!r} within {timeout}s: {self.lines}")
                self._new.wait(left)

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def box(test_redis: TestRedis, namespace: str, outbox_db: str) -> Iterator[Box]:
    b = Box(test_redis.url, namespace, outbox_db)
    with override_settings(RSMQ=outbox_setting(test_redis.url, namespace)):
        try:
            yield b
        finally:
            for p in b.procs:
                p.stop()


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "it") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)
