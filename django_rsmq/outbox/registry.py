"""Which relays are running: ``{ns}:outbox:relays:z``, relay name -> last heartbeat.

Each relay (``rsmq_relay``, or the thread in ``rsmq_consume``) beats every few
seconds; the system check ``django_rsmq.W031`` and ``rsmq_stats`` read it. The clock
is Redis ``TIME``, so relays on hosts with skewed clocks compare fairly.
"""

from __future__ import annotations

import os
import socket
import uuid

import redis

from ..engine.keys import Keys
from ..engine.registry import server_time

__all__ = ["RelayRegistry", "relay_name"]

FORGET_AFTER = 86400.0  # seconds: older entries are pruned on each beat


def relay_name() -> str:
    return f"relay.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"


class RelayRegistry:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.key = Keys(namespace).outbox_relays

    def beat(self, name: str) -> None:
        now = server_time(self.client.time())
        pipe = self.client.pipeline(transaction=False)
        pipe.zadd(self.key, {name: int(now * 1000)})
        pipe.zremrangebyscore(self.key, "-inf", int((now - FORGET_AFTER) * 1000))
        pipe.execute()

    def remove(self, name: str) -> None:
        self.client.zrem(self.key, name)

    def alive(self, ttl: float) -> list[str]:
        """Relays that beat within the last ``ttl`` seconds (by Redis' clock)."""
        now = server_time(self.client.time())
        rows = self.client.zrangebyscore(self.key, int((now - ttl) * 1000), "+inf")
        return [r.decode() if isinstance(r, bytes) else str(r) for r in rows]
