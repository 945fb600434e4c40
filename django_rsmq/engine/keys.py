"""Redis key names: the only module that builds them.

The layout is RSMQ's (see docs/engine.md, "Wire format"): a set of queue names,
one hash per queue holding attributes, counters and message bodies, one sorted
set per queue scored by the epoch millisecond at which each message becomes
receivable, and a pub/sub channel for realtime notifications.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Keys", "QueueKeys"]


@dataclass(frozen=True, slots=True)
class QueueKeys:
    """All key names that belong to one queue."""

    name: str
    hash: str  # {ns}:{qname}:Q   attributes, counters, bodies, {id}:rc, {id}:fr
    zset: str  # {ns}:{qname}     id -> epoch ms when receivable
    channel: str  # {ns}:rt:{qname}  realtime PUBLISH channel (not a key)


@dataclass(frozen=True, slots=True)
class Keys:
    """Key builder for one RSMQ namespace.

    Node ``rsmq`` always prefixes ``ns + ":"``; so do we, also for an empty
    namespace (PyRSMQ differs there, which the docs call out).
    """

    namespace: str = "rsmq"

    @property
    def prefix(self) -> str:
        return f"{self.namespace}:"

    @property
    def queues(self) -> str:
        """SET of queue names (``{ns}:QUEUES``)."""
        return f"{self.prefix}QUEUES"

    def queue(self, qname: str) -> QueueKeys:
        p = self.prefix
        return QueueKeys(
            name=qname,
            hash=f"{p}{qname}:Q",
            zset=f"{p}{qname}",
            channel=f"{p}rt:{qname}",
        )

    # -- side keys (not part of RSMQ's layout; other RSMQ clients ignore them) ---------

    @property
    def consumers(self) -> str:
        """ZSET of consumer names scored by their last heartbeat (epoch ms).

        Side keys have three or more ``:``-separated parts after the namespace, so they
        can never collide with a queue's keys (queue names cannot contain ``:``).
        """
        return f"{self.prefix}consumers:all:z"

    def consumer(self, name: str) -> str:
        """HASH describing one running consumer; expires unless heartbeats renew it."""
        return f"{self.prefix}consumers:by-name:{name}"
