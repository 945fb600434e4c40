"""The ``@handler`` decorator and the registry the consumer dispatches from.

::

    from django_rsmq import handler

    @handler("emails")
    def send_email(message):          # or: async def send_email(message)
        ...

    send_email.send({"to": "a@example.com"})   # same as django_rsmq.send("emails", ...)

One handler per queue. Modules named in ``RSMQ["AUTODISCOVER_MODULES"]`` (default
``["handlers"]``) are imported from every installed app when Django starts.

Integrations (the Django Tasks backend) put *default* handlers on queues with
:meth:`HandlerRegistry.register_default`: a user's ``@handler`` for the same queue
replaces such a default instead of raising, whatever the import order, and the
integration's system check reports the clash.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .engine.message import Message
from .engine.validation import check_qname

__all__ = ["Handler", "HandlerRegistry", "autodiscover", "handler", "registry"]

HandlerFunc = Callable[[Message], Any] | Callable[[Message], Awaitable[Any]]

#: options a handler may set; they override the queue's settings for this consumer
HANDLER_OPTIONS = frozenset({"visibility_timeout"})


@dataclass(frozen=True)
class Handler:
    """A registered handler: calling it calls the function."""

    queue: str
    func: HandlerFunc
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)

    @property
    def name(self) -> str:
        return f"{self.func.__module__}.{self.func.__qualname__}"

    @property
    def visibility_timeout(self) -> float | None:
        vt = self.options.get("visibility_timeout")
        return None if vt is None else float(vt)

    def __call__(self, message: Message) -> Any:
        return self.func(message)

    def send(self, body: Any, *, delay: float | None = None, dedup_id: str | None = None) -> str:
        """Send ``body`` to this handler's queue (see :func:`django_rsmq.send`)."""
        from .producer import send

        return send(self.queue, body, delay=delay, dedup_id=dedup_id)

    def send_on_commit(
        self,
        body: Any,
        *,
        delay: float | None = None,
        dedup_id: str | None = None,
        using: str | None = None,
    ) -> None:
        """Send once the current database transaction commits."""
        from .producer import send_on_commit

        send_on_commit(self.queue, body, delay=delay, dedup_id=dedup_id, using=using)


class HandlerRegistry:
    """Queue name → :class:`Handler`. Thread-safe; one handler per queue."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_queue: dict[str, Handler] = {}
        self._defaults: set[str] = set()  # queues whose handler is a replaceable default

    def register(self, queue: str, func: HandlerFunc, **options: Any) -> Handler:
        check_qname(queue)
        bad = set(options) - HANDLER_OPTIONS
        if bad:
            raise TypeError(
                f"Unknown handler option(s) {', '.join(sorted(bad))}; "
                f"allowed: {', '.join(sorted(HANDLER_OPTIONS))}"
            )
        if not callable(func):
            raise TypeError(f"@handler needs a function, got {func!r}")
        new = Handler(queue, func, dict(options))
        with self._lock:
            old = self._by_queue.get(queue)
            if old is not None and old.name != new.name and queue not in self._defaults:
                raise ImproperlyConfigured(
                    f"Queue {queue!r} already has handler {old.name}; cannot also register "
                    f"{new.name} (one handler per queue)"
                )
            self._by_queue[queue] = new
            self._defaults.discard(queue)
        return new

    def register_default(self, queue: str, func: HandlerFunc, **options: Any) -> Handler | None:
        """Register ``func`` for ``queue`` unless the queue has a handler already.

        Returns the new handler, or ``None`` when another one was there (it stays). A
        later :meth:`register` for the queue replaces this default without an error.
        """
        check_qname(queue)
        with self._lock:
            if queue in self._by_queue:
                return None
            new = Handler(queue, func, dict(options))
            self._by_queue[queue] = new
            self._defaults.add(queue)
        return new

    def is_default(self, queue: str) -> bool:
        """Whether ``queue``'s handler was registered by :meth:`register_default`."""
        return queue in self._defaults

    def unregister(self, queue: str) -> None:
        with self._lock:
            self._by_queue.pop(queue, None)
            self._defaults.discard(queue)

    def get(self, queue: str) -> Handler | None:
        return self._by_queue.get(queue)

    def all(self) -> dict[str, Handler]:
        with self._lock:
            return dict(self._by_queue)

    def clear(self) -> None:
        with self._lock:
            self._by_queue.clear()
            self._defaults.clear()


registry = HandlerRegistry()


def handler(queue: str, **options: Any) -> Callable[[HandlerFunc], Handler]:
    """Register the decorated function (sync or ``async def``) as ``queue``'s handler.

    Options: ``visibility_timeout`` (seconds each received message stays hidden; the
    queue's ``VISIBILITY_TIMEOUT`` otherwise).
    """

    def decorate(func: HandlerFunc) -> Handler:
        return registry.register(queue, func, **options)

    return decorate


def autodiscover() -> None:
    """Import ``<app>.<module>`` for every installed app and every configured module."""
    from django.utils.module_loading import autodiscover_modules

    from .conf import rsmq_settings

    modules = rsmq_settings().autodiscover_modules
    if modules:
        autodiscover_modules(*modules)
