"""What each periodic entry looks like now: its next tick and what the ledger holds
(:mod:`django_rsmq.engine.ledger`). Reads only; the operator API (``stats.json``,
``metrics``, ``rsmq_stats``), ``rsmq_schedule list`` and the admin use it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..connections import rsmq_for_queue
from ..engine.ledger import EntryState, Ledger
from ..engine.registry import server_time
from .entries import Entry, entries

__all__ = ["EntryStatus", "status"]


@dataclass(frozen=True)
class EntryStatus:
    """One entry as ``rsmq_schedule list`` and the admin show it (epoch seconds)."""

    entry: Entry
    next_run: float
    state: EntryState

    @property
    def last_run(self) -> float | None:
        """When a message of this entry was last sent (tick or "run now")."""
        times = [t for t in (self.state.sent, self.state.manual) if t is not None]
        return max(times) if times else None

    def as_dict(self) -> dict[str, Any]:
        """The ``schedule`` rows of ``stats.json`` and ``rsmq_schedule list --json``."""
        return {
            "name": self.entry.name,
            "queue": self.entry.queue,
            "schedule": self.entry.spec,
            "missed": self.entry.missed,
            "next_run": self.next_run,
            "last_run": self.last_run,
            "last_message_id": self.state.message_id or None,
        }


def status() -> list[EntryStatus]:
    """Every entry with its next tick and what the ledger holds, in settings order."""
    out = []
    for entry in entries().values():
        rsmq = rsmq_for_queue(entry.queue)
        now = server_time(rsmq.client.time())
        state = Ledger(rsmq.client, rsmq.namespace).states([entry.name])[entry.name]
        out.append(EntryStatus(entry, entry.next_tick(now), state))
    return out
