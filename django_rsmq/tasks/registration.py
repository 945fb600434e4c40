"""Which queues the configured ``RSMQTaskBackend``\\ s serve, and their handlers.

:func:`sync_handlers` runs when Django starts (``AppConfig.ready``, after handler
autodiscovery) and whenever ``settings.TASKS`` changes (``override_settings``): every
queue in a ``QUEUES`` list of one of our backends gets the task handler
(:func:`django_rsmq.tasks.worker.run_task`) as a *default* in the handler registry,
so a user's ``@handler`` on the same queue wins and ``django_rsmq.E014`` reports the
clash. Nothing here imports ``django.tasks`` unless such a backend is configured.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from ..engine.errors import InvalidName
from ..engine.validation import check_qname
from ..handlers import registry
from .envelope import RUN_TASK_NAME

__all__ = ["RUN_TASK_NAME", "served_queues", "sync_handlers"]


def _is_ours(backend_path: Any) -> bool:
    if not isinstance(backend_path, str) or find_spec("django.tasks") is None:
        return False
    try:
        cls = import_string(backend_path)
    except ImportError:
        return False  # Django's own check reports an unknown BACKEND
    from .backend import RSMQTaskBackend

    return isinstance(cls, type) and issubclass(cls, RSMQTaskBackend)


def served_queues() -> dict[str, list[str]]:
    """Valid queue name → the ``TASKS`` aliases of our backends that serve it."""
    out: dict[str, list[str]] = {}
    tasks = getattr(settings, "TASKS", None)
    if not isinstance(tasks, dict):
        return out
    for alias, params in tasks.items():
        if not isinstance(params, dict) or not _is_ours(params.get("BACKEND")):
            continue
        for name in params.get("QUEUES", ["default"]) or ():
            try:
                check_qname(name)
            except InvalidName:
                continue  # django_rsmq.E013
            out.setdefault(name, []).append(str(alias))
    return out


def sync_handlers() -> None:
    """Make the registry's task handlers match ``settings.TASKS``."""
    wanted = served_queues()
    for name, h in registry.all().items():
        if registry.is_default(name) and h.name == RUN_TASK_NAME and name not in wanted:
            registry.unregister(name)
    if not wanted:
        return
    from .worker import run_task

    for name in sorted(wanted):
        registry.register_default(name, run_task)


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "TASKS":
        sync_handlers()
