"""Consumer registry housekeeping by connection alias (the admin's "forget stale
consumers"): :func:`stale` lists, :func:`forget_stale` drops consumers whose record
expired (they died or lost Redis without unregistering) on every connection the known
queues use. A consumer that beats again before the drop is kept."""

from __future__ import annotations

from ..connections import get_rsmq
from ..engine.registry import ConsumerInfo, ConsumerRegistry
from .queues import known_queues

__all__ = ["forget_stale", "stale"]


def _registries() -> list[ConsumerRegistry]:
    seen: dict[tuple[int, str], ConsumerRegistry] = {}
    for alias in sorted({alias for _, alias in known_queues()} or {"default"}):
        rsmq = get_rsmq(alias)
        seen.setdefault(
            (id(rsmq.client), rsmq.namespace), ConsumerRegistry(rsmq.client, rsmq.namespace)
        )
    return list(seen.values())


def stale() -> list[ConsumerInfo]:
    """The stale consumers (record expired), newest heartbeat first."""
    found = [c for r in _registries() for c in r.list() if not c.alive]
    return sorted(found, key=lambda c: c.heartbeat, reverse=True)


def forget_stale() -> int:
    """Drop every stale consumer from the registries; how many were dropped."""
    return sum(r.forget_stale() for r in _registries())
