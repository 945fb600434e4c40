"""The consumer's record in Redis (see :mod:`django_rsmq.engine.registry`)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..conf import rsmq_settings
from ..engine import RSMQ, history
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

    After each beat it also writes the metrics history's share of the consumer
    (engine/history.py): the per-queue acks, failures, dead-letterings and handler
    durations ``counts`` gathered since the last beat (one pipeline), and once a minute
    the history records of its queues (``history_queues``: queue -> its ``RSMQ``).
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
        counts: history.DurationCounts | None = None,
        history_queues: Mapping[str, RSMQ] | None = None,
    ) -> None:
        super().__init__(name="rsmq-presence", daemon=True)
        self.consumer_name = name
        seen: dict[tuple[int, str], ConsumerRegistry] = {}
        for r in rsmqs:
            seen.setdefault((id(r.client), r.namespace), ConsumerRegistry(r.client, r.namespace))
        self.registries = list(seen.values())
        self.counts = counts
        self.history_cfg = rsmq_settings().history.config()
        self._sampler = history.Sampler()
        self._history_queues: list[list[str]] = [[] for _ in self.registries]
        keys_of = list(seen)
        for qname, r in (history_queues or {}).items():
            key = (id(r.client), r.namespace)
            if key in seen:
                self._history_queues[keys_of.index(key)].append(qname)
        self._history_trouble = Trouble("Writing the metrics history")
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
        taken = self.counts.take() if self.counts is not None else {}
        for i, (registry, trouble) in enumerate(
            zip(self.registries, self._beat_troubles, strict=True)
        ):
            try:
                beat_at = registry.beat(self.consumer_name, fields, self.ttl)
            except Exception as exc:
                trouble.report(exc, self.interval)
                if self.counts is not None:
                    self.counts.put_back({q: taken.pop(q) for q in self._mine(i, taken)})
                continue
            trouble.ok()
            self._history(i, registry, int(beat_at * 1000), taken)

    def _mine(self, i: int, taken: Mapping[str, Any]) -> list[str]:
        return [q for q in self._history_queues[i] if q in taken]

    def _history(
        self, i: int, registry: ConsumerRegistry, now_ms: int, taken: dict[str, Any]
    ) -> None:
        """Add this beat's counts, and once a minute sample the queues' history."""
        cfg = self.history_cfg
        mine = {q: taken.pop(q) for q in self._mine(i, taken)}
        client, keys = registry.client, registry.keys
        try:
            history.flush(client, keys, mine, now_ms, cfg)
            mine = {}
            queues = self._history_queues[i]
            if cfg.enabled and queues and self._sampler.due(client, keys, now_ms, total=False):
                history.sample(client, keys, queues, cfg, now_ms=now_ms)
                self._sampler.done(client, keys, now_ms, total=False)
        except Exception as exc:  # Redis down: the counts wait for the next beat
            if mine and self.counts is not None:
                self.counts.put_back(mine)
            self._history_trouble.report(exc, self.interval)
        else:
            self._history_trouble.ok()

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
