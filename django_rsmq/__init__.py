"""django-rsmq: SQS-style message queues on Redis for Django, wire-compatible with RSMQ.

Public API (importing it does not touch settings or Redis)::

    from django_rsmq import handler, send, send_on_commit
    from django_rsmq import DeadLetter, Discard, Retry, Snooze  # handler outcomes
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

__all__ = ["DeadLetter", "Discard", "Retry", "Snooze", "handler", "send", "send_on_commit"]

_OUTCOMES = ("DeadLetter", "Discard", "Retry", "Snooze")

if TYPE_CHECKING:
    from .handlers import handler
    from .outcomes import DeadLetter, Discard, Retry, Snooze
    from .producer import send, send_on_commit


def __getattr__(name: str) -> Any:
    # Lazy, so `import django_rsmq.engine` in a non-Django service never imports Django.
    if name == "handler":
        from .handlers import handler

        return handler
    if name in ("send", "send_on_commit"):
        from . import producer

        return getattr(producer, name)
    if name in _OUTCOMES:
        from . import outcomes

        return getattr(outcomes, name)
    raise AttributeError(f"module 'django_rsmq' has no attribute {name!r}")
