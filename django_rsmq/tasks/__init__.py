"""A Django Tasks (``django.tasks``, Django 6.0+) backend on RSMQ queues.

::

    TASKS = {
        "default": {
            "BACKEND": "django_rsmq.tasks.RSMQTaskBackend",
            "QUEUES": ["default", "emails"],
        }
    }

A task's ``queue_name`` is the RSMQ queue of that name; ``manage.py rsmq_consume``
runs the tasks (docs/tasks.md). Importing this package does not import
``django.tasks``, so ``django_rsmq`` keeps working on Django 5.2; only the backend
class needs Django 6.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["RSMQTaskBackend"]

if TYPE_CHECKING:
    from .backend import RSMQTaskBackend


def __getattr__(name: str) -> Any:
    if name == "RSMQTaskBackend":
        try:
            import django.tasks  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                "django_rsmq.tasks.RSMQTaskBackend needs Django 6.0+ (django.tasks)"
            ) from exc
        from .backend import RSMQTaskBackend

        return RSMQTaskBackend
    raise AttributeError(f"module 'django_rsmq.tasks' has no attribute {name!r}")
