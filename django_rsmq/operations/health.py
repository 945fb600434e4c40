"""Liveness from consumer heartbeats, for ``rsmq_healthcheck`` and probes."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..conf import rsmq_settings
from ..connections import get_rsmq
from ..engine.registry import ConsumerInfo, ConsumerRegistry

__all__ = ["Health", "consumer_health", "outbox_health"]


@dataclass(frozen=True)
class Health:
    ok: bool
    reason: str
    consumers: list[ConsumerInfo] = field(default_factory=list)


def consumer_health(
    *, queue: str | None = None, name: str | None = None, max_age: float = 30.0
) -> Health:
    """Healthy when at least one live consumer (of ``queue`` / named ``name``) beat
    within ``max_age`` seconds."""
    cfg = rsmq_settings()
    aliases = {cfg.queue(queue).connection} if queue else set(cfg.connections)
    if not queue:
        aliases = {q.connection for q in cfg.queues.values()} or {"default"}
    seen: set[tuple[int, str]] = set()
    found: list[ConsumerInfo] = []
    for alias in sorted(aliases):
        rsmq = get_rsmq(alias)
        key = (id(rsmq.client), rsmq.namespace)
        if key not in seen:
            seen.add(key)
            found += ConsumerRegistry(rsmq.client, rsmq.namespace).list()
    matching = [
        c
        for c in found
        if c.alive and (queue is None or queue in c.queues) and (name is None or c.name == name)
    ]
    fresh = [c for c in matching if c.age() <= max_age]  # age by Redis' clock
    what = f" for queue {queue!r}" if queue else ""
    what += f" named {name!r}" if name else ""
    if fresh:
        return Health(True, f"{len(fresh)} consumer(s){what} alive", fresh)
    if matching:
        return Health(False, f"no heartbeat{what} within {max_age:g}s", matching)
    return Health(False, f"no consumer{what} registered", [])


def outbox_health(*, max_age: float) -> Health:
    """Healthy when a relay is running and no outbox row is older than ``max_age``
    seconds (rows waiting longer: the relay is stuck, or Redis is down)."""
    from .stats import outbox_stats

    found = outbox_stats()
    if not found:
        return Health(True, "outbox not used")
    if not found[0].relays:
        return Health(False, "no outbox relay running")
    for o in found:
        if o.depth is None:
            return Health(False, f"outbox of database {o.database!r} unreadable")
        if o.oldest_age is not None and o.oldest_age > max_age:
            return Health(
                False,
                f"outbox of database {o.database!r}: {o.depth} rows, the oldest "
                f"{o.oldest_age:.1f}s old (more than {max_age:g}s)",
            )
    depth = sum(o.depth or 0 for o in found)
    return Health(True, f"outbox: {depth} rows waiting, {found[0].relays} relay(s)")
