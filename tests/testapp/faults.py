"""Handlers of the fault suite (tests/faults/): each records the numbered message it
handled, so the test can count what was lost and what was handled twice.

Loaded by ``RSMQ["AUTODISCOVER_MODULES"] = ["faults"]`` in tests/faults/settings.py (the
ordinary test settings never import it). A message body is ``{"n": <number>, ...}``;
the handler RPUSHes ``"<n> <id> <rc> <queue> <pid> <time>"`` to
``fault:<namespace>:processed`` on ``RSMQ_FAULT_RECORD_URL`` (straight to Redis, not
through a fault proxy) just before returning, i.e. just before the consumer acks. A
record whose ack is then lost shows up as a duplicate, which is the at-least-once
bound the suite checks.

Body options: ``sleep`` (seconds before recording), ``exit`` (raise ``SystemExit`` with
that code on the first delivery only), anything without ``n`` is rejected (poison).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import redis

from django_rsmq import handler
from django_rsmq.conf import rsmq_settings
from django_rsmq.engine import Message
from tests.faults.records import processed_key, started_key

QUEUES = ("fa", "fb", "fpoison", "fexit")

_client: redis.Redis | None = None
_lock = threading.Lock()


def _redis() -> redis.Redis:
    global _client
    with _lock:
        if _client is None:
            _client = redis.Redis.from_url(
                os.environ["RSMQ_FAULT_RECORD_URL"],
                socket_timeout=2,
                socket_connect_timeout=1,
            )
        return _client


def _body(message: Message) -> dict[str, Any]:
    body = message.body
    if not isinstance(body, dict) or not isinstance(body.get("n"), int):
        raise ValueError(f"not a numbered message: {message.raw!r}")
    return body


def handle(message: Message) -> None:
    body = _body(message)
    ns = rsmq_settings().namespace
    row = f"{body['n']} {message.id} {message.rc} {message.queue} {os.getpid()}"
    if body.get("sleep"):
        _redis().rpush(started_key(ns), row)
        time.sleep(float(body["sleep"]))
    if "exit" in body and message.rc == 1:
        raise SystemExit(int(body["exit"]))
    _redis().rpush(processed_key(ns), f"{row} {time.time():.3f}")


for _q in QUEUES:
    handler(_q)(handle)
