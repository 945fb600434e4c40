"""The consumer's record in Redis (see :mod:`django_rsmq.engine.registry`)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import redis

from ..engine import RSMQ
from ..engine.registry import ConsumerRegistry

__all__ = ["Presence", "default_name"]

log = logging.getLogger("django_rsmq.consumer")


def default_name() -> str:
    return f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"


class Presence(threading.Thread):
    """Beats every ``interval`` seconds on each connection the consumer uses."""

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
            "started": repr(time.time()),
        }
        self._halt = threading.Event()

    def beat(self) -> None:
        fields = {**self.static, **self.status()}
        for registry in self.registries:
            try:
                registry.beat(self.consumer_name, fields, self.ttl)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("Consumer heartbeat failed: %s", exc)

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.beat()

    def stop(self) -> None:
        self._halt.set()

    def remove(self) -> None:
        for registry in self.registries:
            try:
                registry.remove(self.consumer_name)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("Could not unregister consumer: %s", exc)
