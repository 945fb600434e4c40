"""Declared queues versus queues in Redis: create, compare, sync.

Used by ``rsmq_queues``, the consumer (auto-create at start), ``send()`` (auto-create
on first send) and the admin. Attribute names are the engine's
(``vt``, ``delay``, ``maxsize``, ``max_receives``, ``dead_letter_queue``, ...).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..conf import declared_attributes, rsmq_settings
from ..connections import get_rsmq, rsmq_for_queue
from ..engine import RSMQ, QueueAttributes
from ..engine.errors import InvalidName, QueueExists, QueueNotFound
from ..engine.validation import check_qname

__all__ = [
    "PURGE_CHUNK",
    "Malformed",
    "QueueChange",
    "apply_changes",
    "attributes",
    "declared_attributes",
    "declared_differences",
    "ensure_queue",
    "known_queues",
    "malformed_queues",
    "plan_sync",
    "purge",
    "purge_cost",
    "update_attributes",
]

log = logging.getLogger("django_rsmq.operations")

#: Messages one purge call deletes: about 4 ms of Redis time at 1 KB bodies and 13 ms at
#: 60 KB (benchmarks/admin.py, docs/benchmarks.md), so a purge of any size never blocks
#: Redis for long (issue 16's bound: 50 ms per call).
PURGE_CHUNK = 500


def ensure_queue(name: str, rsmq: RSMQ | None = None) -> bool:
    """Create ``name`` with its declared attributes unless it exists. ``True`` if created.

    Its declared dead-letter queue is created first (if it may be auto-created).
    """
    rsmq = rsmq or rsmq_for_queue(name)
    cfg = rsmq_settings()
    q = cfg.queue(name)
    dlq = q.dlq
    if dlq and dlq != name and cfg.queue(dlq).auto_create:
        ensure_queue(dlq)
    try:
        rsmq.create_queue(name, **declared_attributes(q))
    except QueueExists:
        return False
    return True


@dataclass(frozen=True)
class QueueChange:
    """One step of ``rsmq_queues sync``: create a queue, or update some attributes."""

    queue: str
    connection: str
    action: str  # "create" | "update"
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # attr -> (old, new)

    def describe(self) -> str:
        if self.action == "create":
            attrs = ", ".join(f"{k}={new!r}" for k, (_, new) in self.changes.items())
            return f"create {self.queue} [{self.connection}] ({attrs})"
        diff = ", ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in self.changes.items())
        return f"update {self.queue} [{self.connection}] ({diff})"


def _current(rsmq: RSMQ, name: str) -> dict[str, Any] | None:
    try:
        return rsmq.get_queue_attributes(name).as_dict()
    except QueueNotFound:
        return None


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, int | float) and isinstance(new, int | float):
        return float(old) == float(new)
    return bool(old == new)


def plan_sync(names: Iterable[str] | None = None) -> list[QueueChange]:
    """What ``sync`` would do for the declared queues (all, or ``names``)."""
    cfg = rsmq_settings()
    plan: list[QueueChange] = []
    for name in names if names is not None else sorted(cfg.queues):
        q = cfg.queue(name)
        rsmq = get_rsmq(q.connection)
        wanted = declared_attributes(q)
        current = _current(rsmq, name)
        if current is None:
            changes = {k: (None, v) for k, v in wanted.items()}
            plan.append(QueueChange(name, q.connection, "create", changes))
            continue
        diff = {
            k: (current.get(k), v)
            for k, v in wanted.items()
            if k in current and not _same(current.get(k), v)
        }
        if diff:
            plan.append(QueueChange(name, q.connection, "update", diff))
    return plan


def apply_changes(plan: Iterable[QueueChange]) -> None:
    for change in plan:
        rsmq = get_rsmq(change.connection)
        attrs = {k: new for k, (_, new) in change.changes.items()}
        if change.action == "create":
            try:
                rsmq.create_queue(change.queue, **attrs)
            except QueueExists:
                rsmq.set_queue_attributes(change.queue, **attrs)
        else:
            rsmq.set_queue_attributes(change.queue, **attrs)


def attributes(name: str) -> QueueAttributes:
    """The queue's attributes and counts. Raises ``QueueNotFound``."""
    return rsmq_for_queue(name).get_queue_attributes(name)


def update_attributes(name: str, **attrs: Any) -> QueueAttributes:
    """Change attributes of a queue in Redis (``vt``, ``delay``, ``maxsize`` and the
    engine's reliability settings); returns the new attributes."""
    return rsmq_for_queue(name).set_queue_attributes(name, **attrs)


def purge(name: str, *, chunk: int = PURGE_CHUNK) -> int:
    """Delete every message of the queue, ``chunk`` per Redis call; returns how many.
    Attributes stay. Each call leaves a consistent queue: after a crash, purge again."""
    return rsmq_for_queue(name).purge(name, chunk=chunk)


def purge_cost(messages: int, *, chunk: int = PURGE_CHUNK) -> dict[str, int]:
    """What a purge of ``messages`` costs: Redis calls, messages per call."""
    return {"calls": max(1, -(-messages // chunk)), "chunk": chunk}


def declared_differences(name: str, current: QueueAttributes) -> dict[str, tuple[Any, Any]]:
    """``{attr: (live, declared)}`` of a declared queue whose attributes in Redis differ
    from ``settings.RSMQ["QUEUES"]`` (what ``rsmq_queues sync`` would set back);
    ``{}`` for an undeclared queue."""
    cfg = rsmq_settings()
    if name not in cfg.queues:
        return {}
    live = current.as_dict()
    wanted = declared_attributes(cfg.queue(name))
    return {k: (live.get(k), v) for k, v in wanted.items() if k in live and not _same(live[k], v)}


@dataclass(frozen=True)
class Malformed:
    """A member of ``{ns}:QUEUES`` that is no valid queue name (written by a peer)."""

    name: str
    connection: str
    error: str


def _scan(cfg: Any) -> tuple[dict[str, list[str]], list[Malformed]]:
    found = {q.name: q.connection for q in cfg.queues.values()}
    seen: dict[str, list[str]] = {}
    bad: list[Malformed] = []
    for alias in sorted(set(found.values()) or {"default"}):
        for name in get_rsmq(alias).list_queues():
            try:
                check_qname(name)
            except InvalidName as exc:
                bad.append(Malformed(name, alias, str(exc)))
                continue
            seen.setdefault(name, []).append(alias)
    return seen, bad


def malformed_queues() -> list[Malformed]:
    """Members of ``{ns}:QUEUES`` on the known connections that are no valid queue name:
    :func:`known_queues` skips them (the dashboard, ``stats.json`` and ``metrics`` show
    a warning instead of failing)."""
    return _scan(rsmq_settings())[1]


def pause(name: str) -> bool:
    """Pause the queue (consumers receive nothing from it until :func:`resume`; sends go
    on). Returns whether it was running. Raises ``QueueNotFound``."""
    return rsmq_for_queue(name).pause_queue(name)


def resume(name: str) -> bool:
    """Resume a paused queue; consumers waiting on it look again at once. Returns whether
    it was paused. Raises ``QueueNotFound``."""
    return rsmq_for_queue(name).resume_queue(name)


def known_queues() -> list[tuple[str, str]]:
    """``(name, connection alias)`` of every declared queue plus every queue found in
    Redis on the connections the declared queues use, sorted by name. A malformed
    name in Redis is skipped with a logged warning (:func:`malformed_queues`)."""
    cfg = rsmq_settings()
    found = {q.name: q.connection for q in cfg.queues.values()}
    seen, bad = _scan(cfg)
    for m in bad:
        log.warning(
            "skipping malformed queue name %r in Redis [%s]: %s", m.name, m.connection, m.error
        )
    for name, aliases in seen.items():
        if name not in found:  # an undeclared DLQ: where its queue is, if it is there
            home = cfg.queue(name).connection
            found[name] = home if home in aliases else aliases[0]
    return sorted(found.items())
