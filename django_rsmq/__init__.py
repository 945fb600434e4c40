"""django-rsmq: SQS-style message queues on Redis for Django, wire-compatible with RSMQ.

Public API (importing it does not touch settings or Redis)::

    from django_rsmq import handler, send, send_on_commit
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

__all__ = ["handler", "send", "send_on_commit"]

if TYPE_CHECKING:
    from .handlers import handler
    from .producer import send, send_on_commit


def __getattr__(name: str) -> Any:
    # Lazy, so `import django_rsmq.engine` in a non-Django service never imports Django.
    if name == "handler":
        from .handlers import handler

        return handler
    if name in ("send", "send_on_commit"):
        from . import producer

        return getattr(producer, name)
    raise AttributeError(f"module 'django_rsmq' has no attribute {name!r}")
