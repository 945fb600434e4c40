"""pytest plugin (entry point ``django_rsmq``, installed with the package): with
pytest-django, every test that has Django settings runs in its own RSMQ namespace,
deleted after it (:func:`django_rsmq.testing.isolated`), so tests never see the
development embedded Redis's messages or each other's.

Opt out for one test with ``@pytest.mark.rsmq_shared``, for a whole run with the ini
option ``rsmq_isolation = false`` (or ``-p no:django_rsmq``). The ``rsmq_namespace``
fixture is the current test's namespace.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def pytest_addoption(parser: Any) -> None:
    parser.addini(
        "rsmq_isolation",
        "run each pytest-django test in its own RSMQ namespace (default true)",
        type="bool",
        default=True,
    )


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "rsmq_shared: keep the settings' RSMQ namespace (no isolation)"
    )


def _django_ready() -> bool:
    try:
        from django.apps import apps
        from django.conf import settings
    except ImportError:
        return False
    return bool(settings.configured and apps.ready and apps.is_installed("django_rsmq"))


@pytest.fixture(autouse=True)
def rsmq_namespace(request: Any) -> Iterator[str | None]:
    """The test's own RSMQ namespace (``None`` when isolation is off for it)."""
    if (
        not request.config.getini("rsmq_isolation")
        or request.node.get_closest_marker("rsmq_shared") is not None
        or not request.config.pluginmanager.hasplugin("django")
        or not _django_ready()
    ):
        yield None
        return
    from .isolation import isolated

    with isolated() as namespace:
        yield namespace
