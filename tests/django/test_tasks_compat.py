"""Django 5.2 has no ``django.tasks``: django_rsmq works without it, and the Tasks
backend says clearly what it needs."""

from __future__ import annotations

from importlib.util import find_spec

import django
import pytest
from django.test import override_settings

from django_rsmq.handlers import registry
from django_rsmq.tasks.registration import served_queues, sync_handlers

pytestmark = pytest.mark.skipif(
    django.VERSION >= (6, 0), reason="Django 6.0+ has django.tasks (tests/tasks/ cover it)"
)

OURS = {"default": {"BACKEND": "django_rsmq.tasks.RSMQTaskBackend", "QUEUES": ["default"]}}


def test_without_django_tasks_a_tasks_setting_registers_nothing() -> None:
    assert find_spec("django.tasks") is None
    with override_settings(TASKS=OURS):
        sync_handlers()
        assert served_queues() == {}
        assert registry.get("default") is None


def test_the_backend_class_names_the_django_version_it_needs() -> None:
    import django_rsmq.tasks

    with pytest.raises(ImportError, match=r"needs Django 6\.0\+"):
        django_rsmq.tasks.RSMQTaskBackend  # noqa: B018
