"""The single-relay lease, for databases without ``SELECT ... FOR UPDATE SKIP LOCKED``.

On SQLite (and MySQL before 8.0) two relays reading the same rows would both send
them, so one relay per database holds a lease: the Redis key
``{ns}:outbox:lease:<database>`` with its random token, expiring ``ttl`` seconds after
its last renewal. The others wait and take over once it expired (a relay killed
with ``SIGKILL`` holds it until then). A holder that stalls past the ttl may overlap
with its successor for one round: the rows' de-duplication ids keep that from
enqueuing a row twice (docs/outbox.md).
"""

from __future__ import annotations

import contextlib
import uuid

import redis

from ..engine.keys import Keys

__all__ = ["Lease"]

# KEYS[1] the lease; ARGV[1] our token, ARGV[2] ttl ms. 1: held (taken or renewed).
_HOLD = """
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# KEYS[1] the lease; ARGV[1] our token: deleted only if it is still ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Lease:
    """One relay's claim on one database's outbox."""

    def __init__(self, client: redis.Redis, namespace: str, database: str, ttl: float) -> None:
        self.client = client
        self.key = Keys(namespace).outbox_lease(database)
        self.ttl_ms = max(1, int(ttl * 1000))
        self.token = uuid.uuid4().hex
        self._hold = client.register_script(_HOLD)
        self._release = client.register_script(_RELEASE)

    def hold(self) -> bool:
        """Take the lease if it is free, renew it if it is ours; ``False``: another
        relay holds it. Raises Redis' errors (an outage)."""
        return bool(self._hold(keys=[self.key], args=[self.token, self.ttl_ms]))

    def release(self) -> None:
        """Give the lease up (a stopping relay), so another takes over at once."""
        with contextlib.suppress(redis.RedisError, OSError):
            self._release(keys=[self.key], args=[self.token])
