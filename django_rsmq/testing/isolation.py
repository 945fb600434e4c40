"""Test isolation: each test gets its own RSMQ namespace, deleted after it.

A project's tests with default settings would otherwise run against the development
embedded Redis and its data (a message left by ``runserver`` breaks an
``assert processed == 1``). Django isolates the test database; this does the same for
queues, on whatever server the settings name (the embedded one or ``CONNECTIONS``):

- :func:`isolated` — a context manager / decorator: ``RSMQ["NAMESPACE"]`` becomes a
  fresh name for its duration (``override_settings``), and on exit every key under that
  name is deleted on each connection that has a server up. Nothing is started for a
  test that never touches a queue.
- :class:`IsolatedRSMQMixin` — for ``django.test`` test cases (``manage.py test``).
- :class:`IsolatedDiscoverRunner` — ``TEST_RUNNER`` that isolates every test of the
  run, whatever its class (not with ``--parallel``: use the mixin there).
- the pytest plugin :mod:`django_rsmq.testing.pytest_plugin` (installed with the
  package) does it for every pytest-django test unless opted out.
"""

from __future__ import annotations

import contextlib
import unittest
from typing import Any

from django.conf import settings
from django.test.runner import DiscoverRunner
from django.test.utils import override_settings

from .redis import unique_namespace

__all__ = [
    "IsolatedDiscoverRunner",
    "IsolatedRSMQMixin",
    "flush_namespace",
    "isolated",
]


def flush_namespace(namespace: str) -> int:
    """Delete every key of ``namespace`` on each configured connection whose server is
    up (an embedded server that is not running is not started). Returns the count."""
    import redis

    from ..conf import rsmq_settings
    from ..connections import redis_client
    from ..engine.embedded import server_paths

    deleted = 0
    pattern = namespace.replace("\\", "\\\\")
    for ch in "*?[]":
        pattern = pattern.replace(ch, "\\" + ch)
    for conn in rsmq_settings().connections.values():
        if conn.embedded and conn.data_dir and not server_paths(conn.data_dir).socket.exists():
            continue
        client = None
        try:
            client = redis_client(conn)
            keys = list(client.scan_iter(match=f"{pattern}:*", count=1000))
            for start in range(0, len(keys), 500):
                deleted += int(client.delete(*keys[start : start + 500]))
        except (redis.RedisError, OSError):
            continue  # no server there: nothing of this test's to delete
        finally:
            if client is not None and conn.kind != "django_cache":
                with contextlib.suppress(Exception):
                    client.close()
    return deleted


class isolated(contextlib.ContextDecorator):  # lower case: used like a function
    """``with isolated(): ...`` / ``@isolated()``: a fresh namespace, deleted after."""

    def __init__(self, namespace: str | None = None, *, flush: bool = True) -> None:
        self.namespace = namespace
        self.flush = flush
        self._stack: list[tuple[str, override_settings]] = []

    def __enter__(self) -> str:
        namespace = self.namespace or unique_namespace("test-")
        current: dict[str, Any] = dict(getattr(settings, "RSMQ", None) or {})
        override = override_settings(RSMQ={**current, "NAMESPACE": namespace})
        override.enable()
        self._stack.append((namespace, override))
        return namespace

    def __exit__(self, *exc: object) -> None:
        namespace, override = self._stack.pop()
        try:
            if self.flush:
                flush_namespace(namespace)
        finally:
            override.disable()


class IsolatedRSMQMixin:
    """Mix into a ``django.test`` ``TestCase``/``SimpleTestCase``: each test runs in its
    own namespace (``self.rsmq_namespace``), deleted after it."""

    rsmq_namespace: str

    def _pre_setup(self, *args: Any, **kwargs: Any) -> None:
        self._rsmq_isolated = isolated()
        self.rsmq_namespace = self._rsmq_isolated.__enter__()
        super()._pre_setup(*args, **kwargs)  # type: ignore[misc]

    def _post_teardown(self, *args: Any, **kwargs: Any) -> None:
        try:
            super()._post_teardown(*args, **kwargs)  # type: ignore[misc]
        finally:
            self._rsmq_isolated.__exit__(None, None, None)


class _IsolatingResult(unittest.TextTestResult):
    def startTest(self, test: unittest.TestCase) -> None:
        opted_out = getattr(test, "rsmq_isolation", True) is False
        self._rsmq_isolated = None if opted_out else isolated()
        if self._rsmq_isolated is not None:
            self._rsmq_isolated.__enter__()
        super().startTest(test)

    def stopTest(self, test: unittest.TestCase) -> None:
        try:
            super().stopTest(test)
        finally:
            if self._rsmq_isolated is not None:
                self._rsmq_isolated.__exit__(None, None, None)
                self._rsmq_isolated = None


class IsolatedDiscoverRunner(DiscoverRunner):
    """``TEST_RUNNER = "django_rsmq.testing.IsolatedDiscoverRunner"``: every test gets its
    own namespace, deleted after it; a test class sets ``rsmq_isolation = False`` to opt
    out. Single process only (with ``--parallel``, use :class:`IsolatedRSMQMixin`)."""

    def get_resultclass(self) -> Any:
        base = super().get_resultclass()
        if base is not None:  # --debug-sql / --pdb: their own result classes
            return type("Isolating" + base.__name__, (_IsolatingResult, base), {})
        return _IsolatingResult
