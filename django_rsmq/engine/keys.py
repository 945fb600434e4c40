"""Redis key names: the only module that builds them.

The layout is RSMQ's (see docs/engine.md, "Wire format"): a set of queue names,
one hash per queue holding attributes, counters and message bodies, one sorted
set per queue scored by the epoch millisecond at which each message becomes
receivable, and a pub/sub channel for realtime notifications.

django-rsmq's reliability features add *side keys* next to a queue's RSMQ keys
(see docs/reliability.md, "Side data and RSMQ peers"). Plain RSMQ clients never
read them. A queue name cannot contain ``:``, so ``{ns}:{q}:meta`` and friends can
never be another queue's ``{ns}:{q2}`` sorted set or ``{ns}:{q2}:Q`` hash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["Keys", "QueueKeys"]


@dataclass(frozen=True, slots=True)
class QueueKeys:
    """All key names that belong to one queue."""

    name: str
    hash: str  # {ns}:{qname}:Q   attributes, counters, bodies, {id}:rc, {id}:fr
    zset: str  # {ns}:{qname}     id -> epoch ms when receivable
    channel: str  # {ns}:rt:{qname}  realtime PUBLISH channel (not a key)
    # Side keys (django-rsmq only; plain RSMQ clients never touch them):
    meta: str  # {ns}:{qname}:meta  HASH {id}:lr / {id}:err / {id}:dl, collected lazily
    failed: str  # {ns}:{qname}:failed  HASH failure records {rid}, {rid}:m, {rid}:b
    failed_index: str  # {ns}:{qname}:failed:t  ZSET record id -> time ms (paging, cap, TTL)
    dedup: str  # {ns}:{qname}:dedup  HASH dedup id -> "<expiry ms>:<first message id>"
    dedup_index: str  # {ns}:{qname}:dedup-t  ZSET dedup id -> expiry ms (lazy pruning)
    unique: str  # {ns}:{qname}:unique  HASH unique key -> id of the message that holds it
    samples: str  # {ns}:stats:samples:{qname}  ZSET counter samples (Keys.counter_samples)
    # {ns}:{qname}:inflight  ZSET id -> epoch ms until which a message django-rsmq received
    # stays hidden (mirrors its zset score): get_queue_attributes counts in-flight messages
    # with one ZCOUNT. Entries whose time has passed count for nothing (pruned by receive).
    in_flight: str
    queues: str  # {ns}:QUEUES (the namespace's set, needed to auto-create a queue)
    # ``failed`` and ``dedup`` carry, in their field "", the side-data id of the queue they
    # were written for (``ext:sid`` of ``hash``): see docs/reliability.md, "Side data".
    # ``dedup-t``, not ``dedup:t``: dedup keys used to be ``{ns}:{qname}:dedup:<id>``
    # strings, and such a key for dedup id "t" may still be alive during an upgrade.

    def side_keys(self) -> tuple[str, ...]:
        """Every side key of the queue: what ``delete_queue`` and ``create_queue`` clear."""
        return (
            self.meta,
            self.failed,
            self.failed_index,
            self.dedup,
            self.dedup_index,
            self.unique,
            self.samples,
            self.in_flight,
        )

    def message_keys(self) -> tuple[str, str, str]:
        """hash, zset, meta: the keys a message lives in (KEYS[1..3] of most scripts)."""
        return (self.hash, self.zset, self.meta)

    def as_target(self) -> str:
        """The queue as a move target, stored with a queue's config or a dead letter's
        metadata so that scripts never build key names themselves (JSON, read by Lua)."""
        return json.dumps(
            {
                "name": self.name,
                "h": self.hash,
                "z": self.zset,
                "m": self.meta,
                "s": self.queues,
                "c": self.channel,
            },
            separators=(",", ":"),
        )


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
            meta=f"{p}{qname}:meta",
            failed=f"{p}{qname}:failed",
            failed_index=f"{p}{qname}:failed:t",
            dedup=f"{p}{qname}:dedup",
            dedup_index=f"{p}{qname}:dedup-t",
            unique=f"{p}{qname}:unique",
            samples=self.counter_samples(qname),
            in_flight=f"{p}{qname}:inflight",
            queues=self.queues,
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

    def counter_samples(self, qname: str) -> str:
        """ZSET of ``"<ms>:<sent>:<received>"`` samples of a queue's counters, scored by
        epoch ms, for throughput over the last minute (expires when nobody reads stats)."""
        return f"{self.prefix}stats:samples:{qname}"

    @property
    def schedule(self) -> str:
        """HASH of the periodic messages' ledger (``RSMQ["SCHEDULE"]``): per entry name,
        ``{name}:tick`` (the last tick handled, epoch ms), ``{name}:claim``
        (``"<tick>:<owner>:<lease expiry ms>"`` while a consumer sends a tick),
        ``{name}:sent`` / ``{name}:id`` (the last send) and ``{name}:manual`` (the last
        "run now"). Written by periodic_claim.lua / periodic_done.lua."""
        return f"{self.prefix}schedule:ledger:h"

    def history(self, series: str, resolution: str) -> str:
        """STRING ring of fixed-size history records of ``series`` (a queue name, or
        ``"*"`` for all queues of the namespace) at ``resolution`` ``"m"`` (per minute)
        or ``"h"`` (per hour): engine/history.py. ``*`` is no queue name's character."""
        return f"{self.prefix}stats:history:{resolution}:{series}"

    def history_counts(self, qname: str) -> str:
        """HASH of running totals the consumers add at their heartbeat (``acked``,
        ``failed``, ``dead``): what the scripts do not count themselves."""
        return f"{self.prefix}stats:counts:{qname}"

    def history_durations(self, qname: str, minute: int) -> str:
        """HASH bucket -> count of handler durations finished in epoch ``minute``
        (written by the consumers at their heartbeat, expires after a few minutes)."""
        return f"{self.prefix}stats:durations:{qname}:{minute}"

    @property
    def consumers_static(self) -> str:
        """HASH consumer name -> JSON of what does not change while it runs (host, pid,
        queues, started): kept after its record expired, so stale rows still say where."""
        return f"{self.prefix}consumers:static:h"

    # -- the transactional outbox's relays (django_rsmq/outbox) ---------------------------

    def outbox_wake(self, database: str) -> str:
        """Pub/sub channel a commit that wrote outbox rows on ``database`` publishes to."""
        return f"{self.prefix}outbox:wake:{database}"

    def outbox_lease(self, database: str) -> str:
        """STRING holding the token of the one relay allowed to relay ``database``'s
        outbox where the database has no ``SKIP LOCKED`` (SQLite, MySQL); it expires
        unless its holder renews it."""
        return f"{self.prefix}outbox:lease:{database}"

    @property
    def outbox_relays(self) -> str:
        """ZSET of running relays (``<name>``) scored by their last heartbeat (epoch ms)."""
        return f"{self.prefix}outbox:relays:z"
