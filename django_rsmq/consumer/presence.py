"""The consumer's record in Redis (see :mod:`django_rsmq.engine.registry`)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from ..engine import RSMQ
from ..engine.registry import ConsumerRegistry
from .trouble import Trouble

__all__ = ["Presence", "default_name"]

log = logging.getLogger("django_rsmq.consumer")


def default_name() -> str:
    return f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"


class Presence(threading.Thread):
    """Beats every ``interval`` seconds on each connection the consumer uses.

    A beat that fails (Redis down, ``OOM``, ``READONLY``, ...) is logged once per kind
    and tried again on the next tick; nothing stops the thread but :meth:`stop`.
    The heartbeat and start times are Redis ``TIME`` (see the registry).
    """

    def __init__(
        self,
        name: str,
        rsmqs: Iterable[RSMQ],
        queues: list[str],
        *,
        interval: float,
        ttl: float,
        status: Callable[[], dict[str, Any]],
    ) -> None:
        super().__init__(name="rsmq-presence", daemon=True)
        self.consumer_name = name
        seen: dict[tuple[int, str], ConsumerRegistry] = {}
        for r in rsmqs:
            seen.setdefault((id(r.client), r.namespace), ConsumerRegistry(r.client, r.namespace))
        self.registries = list(seen.values())
        self.interval = interval
        self.ttl = max(ttl, interval * 2)
        self.status = status
        self.static = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "queues": queues,
        }
        self._halt = threading.Event()
        self._beat_trouble = Trouble("Consumer heartbeat")
        n = len(self.registries)
        self._beat_troubles = [  # one per connection: one down, the others fine
            Trouble("Consumer heartbeat" + (f" (connection {i + 1} of {n})" if n > 1 else ""))
            for i in range(n)
        ]
        self._remove_trouble = Trouble("Unregistering the consumer")
        self.on_exit: Callable[[], None] | None = None

    def beat(self) -> None:
        try:
            fields = {**self.static, **self.status()}
        except Exception as exc:
            self._beat_trouble.report(exc)
            return
        for registry, trouble in zip(self.registries, self._beat_troubles, strict=True):
            try:
                registry.beat(self.consumer_name, fields, self.ttl)
            except Exception as exc:
                trouble.report(exc, self.interval)
            else:
                trouble.ok()

    def run(self) -> None:
        try:
            while not self._halt.wait(self.interval):
                self.beat()
        finally:
            if self.on_exit is not None:
                self.on_exit()

    def stop(self) -> None:
        self._halt.set()

    def remove(self) -> None:
        for registry in self.registries:
            try:
                registry.remove(self.consumer_name)
            except Exception as exc:  # the record expires after its ttl anyway
                self._remove_trouble.report(exc)
