"""The Sentinel group fixtures: started per test (about 2 s) for tests that fail it over,
once per session for those that do not; stopped by their pids.

Under ``CI=true`` a missing ``redis-server`` fails; locally the tests skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from django_rsmq.engine.server import RedisServerNotFound
from tests.conftest import _unavailable

from .group import SentinelGroup


def _group(tmp_path: Path, **kwargs: int) -> Iterator[SentinelGroup]:
    try:
        group = SentinelGroup(tmp_path, **kwargs)
    except RedisServerNotFound as exc:
        _unavailable(exc)
    group.start()
    try:
        yield group
    finally:
        group.stop()


@pytest.fixture(scope="session")
def calm_sentinel_group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelGroup]:
    """One group for the whole session, for tests that never fail it over (or kill,
    or leave settings changed): they share it, each in its own namespace."""
    yield from _group(tmp_path_factory.mktemp("calm-sentinel"))


@pytest.fixture
def sentinel_group(tmp_path: Path) -> Iterator[SentinelGroup]:
    """1 master + 2 replicas + 3 sentinels (``down-after-milliseconds`` 1000)."""
    yield from _group(tmp_path)


@pytest.fixture
def strict_sentinel_group(tmp_path: Path) -> Iterator[SentinelGroup]:
    """The same with ``min-replicas-to-write 1`` / ``min-replicas-max-lag 2``."""
    yield from _group(tmp_path, min_replicas_to_write=1)
