"""Settings for the Django Tasks backend tests: our backend as ``TASKS["default"]``
serving ``default`` and ``tasks-flaky``, both declared in ``RSMQ["QUEUES"]``.

The test modules skip on Django < 6.0 (no ``django.tasks``) before importing it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from django.test import override_settings

from django_rsmq.testing import TestRedis
from tests.settings import queues, rsmq_setting

BACKEND = "django_rsmq.tasks.RSMQTaskBackend"
TASKS: dict[str, Any] = {"default": {"BACKEND": BACKEND, "QUEUES": ["default", "tasks-flaky"]}}


def task_queues() -> dict[str, dict[str, object]]:
    return {
        **queues(),
        "default": {"VISIBILITY_TIMEOUT": 5, "RETRY": [0], "MAX_RECEIVES": 5},
        "tasks-flaky": {
            "VISIBILITY_TIMEOUT": 5,
            "RETRY": [0],
            "MAX_RECEIVES": 3,
            "DEAD_LETTER_QUEUE": "tasks-flaky-dlq",
        },
        "tasks-flaky-dlq": {},
    }


@pytest.fixture(autouse=True)
def tasks_settings(test_redis: TestRedis, namespace: str) -> Iterator[dict[str, Any]]:
    setting = rsmq_setting(test_redis.url, namespace, QUEUES=task_queues())
    with override_settings(RSMQ=setting, TASKS=TASKS):
        yield setting


@pytest.fixture
def t(tasks_settings: dict[str, Any]) -> ModuleType:
    """tests/testapp/tasks.py, imported (the first time) under the tasks settings."""
    module = importlib.import_module("tests.testapp.tasks")
    module.CALLS.clear()
    return module
