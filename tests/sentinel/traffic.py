"""Numbered traffic through a failover: a live producer, a live (slower) consumer, and
the truth read from the final master afterwards.

``lost``: acknowledged sends that were neither processed nor still in the queue (visible
or not) on the master the sentinels name at the end. ``duplicated``: numbers processed
more than once (bounded by what was in flight at the switch). ``outage``: the longest
time between two acknowledged sends.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import redis

from django_rsmq.engine import RSMQ

from .group import SentinelGroup


@dataclass
class Traffic:
    rsmq: RSMQ
    queue: str
    rate: float = 400.0  # sends per second
    consumer_delay: float = 0.004  # per message: the consumer is behind the producer
    send_kwargs: dict[str, Any] = field(default_factory=dict)
    acked: list[int] = field(default_factory=list)
    ack_times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    processed: list[int] = field(default_factory=list)
    consumer_errors: list[str] = field(default_factory=list)
    stop_producer: threading.Event = field(default_factory=threading.Event)
    stop_consumer: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for target in (self._produce, self._consume):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self.threads.append(t)

    def _produce(self) -> None:
        n = 0
        period = 1.0 / self.rate
        next_at = time.monotonic()
        while not self.stop_producer.is_set():
            n += 1
            try:
                self.rsmq.send(self.queue, str(n), **self.send_kwargs)
            except Exception as exc:  # counted: an error is not an acknowledged send
                self.errors.append(type(exc).__name__)
            else:
                self.acked.append(n)
                self.ack_times.append(time.monotonic())
            next_at += period
            pause = next_at - time.monotonic()
            if pause > 0:
                self.stop_producer.wait(pause)

    def _consume(self) -> None:
        while not self.stop_consumer.is_set():
            try:
                m = self.rsmq.receive(self.queue, vt=60, wait=0.2)
                if m is None:
                    continue
                time.sleep(self.consumer_delay)  # the handler's work
                self.rsmq.delete(self.queue, m.id)
                self.processed.append(int(m.body))
            except Exception as exc:
                self.consumer_errors.append(type(exc).__name__)
                time.sleep(0.01)

    def finish(self, group: SentinelGroup) -> dict[str, Any]:
        self.stop_producer.set()
        self.threads[0].join(10)
        self.stop_consumer.set()
        self.threads[1].join(10)
        host, port = group.master_address()
        truth = RSMQ(redis.Redis(host=host, port=port), namespace=self.rsmq.namespace)
        left: list[int] = []  # still in the queue, visible or not (a failed delete)
        while page := truth.peek(self.queue, offset=len(left), limit=1000):
            left.extend(int(m.body) for m in page)
        truth.client.close()
        seen = set(self.processed) | set(left)
        counts = Counter(self.processed + left)
        gaps = [b - a for a, b in itertools.pairwise(self.ack_times)]
        result = {
            "sent": len(self.acked),
            "processed": len(set(self.processed)),
            "lost": len([n for n in self.acked if n not in seen]),
            "duplicated": sum(c - 1 for c in counts.values() if c > 1),
            "outage": round(max(gaps, default=0.0), 2),
            "errors": len(self.errors),
        }
        print(" ".join(f"{k}={v}" for k, v in result.items()), flush=True)
        return result
