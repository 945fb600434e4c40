"""The failure-record lifecycle: what became of the message a failure record is about,
and which records a requeue may send.

A failure record is a log entry (``RSMQ.fail``); the message lives on. Its state is read
at list time, one read-only ``record_states.lua`` call per page, from data django-rsmq
already keeps or writes in its own side keys (the RSMQ hash and zset are untouched):

============== ===============================================================
``waiting``    in its queue, receivable now or later (a retry is pending)
``in_flight``  in its queue, received and not settled
``dead_lettered`` in the queue's dead-letter queue
``requeued``   a record of it was requeued (``rq:{id}`` in the failed records
               hash names the new message)
``succeeded``  acked after failing (``ok:{id}``, written by ``delete.lua``)
``gone``       none of these: deleted, purged, dropped by retention, taken out
               of the DLQ, or acked by a plain RSMQ client (no ``ok:`` mark)
============== ===============================================================

Requeue from failure records sends only records whose message is ``gone`` (a message
its handler discarded, ``Discard``, is done and never sent again), and one
record per message (its newest) however many it has; :func:`plan_requeue` says which
and why the others are skipped. ``redrive.lua`` (``guard``) checks the same rule again
atomically, so a racing ack or a second click cannot send a message twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from .reliability import FailedRecord

__all__ = ["LABELS", "REQUEUABLE", "SKIP_REASONS", "STATES", "RecordState", "RequeuePlan"]

STATES: Final = ("waiting", "in_flight", "dead_lettered", "requeued", "succeeded", "gone")
REQUEUABLE: Final = frozenset({"gone"})
LABELS: Final = {
    "waiting": "pending (waiting for a retry)",
    "in_flight": "pending (in flight)",
    "dead_lettered": "dead-lettered",
    "requeued": "requeued",
    "succeeded": "succeeded",
    "gone": "gone (deleted, purged or expired)",
}
#: why a record is not sent, by reason key
SKIP_REASONS: Final = {
    "succeeded": "its message succeeded later",
    "waiting": "its message is still in the queue",
    "in_flight": "its message is being handled right now",
    "dead_lettered": "its message is in the dead-letter queue (requeue it from there)",
    "requeued": "its message was requeued already",
    "duplicate": "a newer record of the same message is sent instead",
    "discarded": "its handler discarded it (Discard): done, not lost",
}


@dataclass(frozen=True, slots=True)
class RecordState:
    """Where a record's message is now; ``detail``: the new message id (``requeued``)
    or the ack time in epoch ms (``succeeded``), else ``""``."""

    state: str
    detail: str = ""

    @property
    def label(self) -> str:
        return LABELS.get(self.state, self.state)

    @property
    def requeuable(self) -> bool:
        return self.state in REQUEUABLE

    @property
    def pending(self) -> bool:
        return self.state in ("waiting", "in_flight")

    @property
    def acked_at(self) -> int | None:
        return int(self.detail) if self.state == "succeeded" and self.detail.isdigit() else None


@dataclass
class RequeuePlan:
    """``send``: the record ids to requeue (one per message); ``skipped``: record ids
    per reason key of :data:`SKIP_REASONS`."""

    send: list[str] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)

    @property
    def skipped_count(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    def reasons(self) -> list[tuple[str, int]]:
        """``(why, how many)`` for each reason that skipped something."""
        return [(SKIP_REASONS[k], len(v)) for k, v in self.skipped.items() if v]

    def describe(self) -> str:
        """``"3 to send, 5 skipped: 4 (its message succeeded later), 1 (...)"``."""
        text = f"{len(self.send)} to send"
        if self.skipped_count:
            why = ", ".join(f"{n} ({reason})" for reason, n in self.reasons())
            text += f", {self.skipped_count} skipped: {why}"
        return text


def plan_requeue(
    records: Iterable[FailedRecord],
    states: Mapping[str, RecordState],
    discarded: Iterable[str] = (),
) -> RequeuePlan:
    """Which of ``records`` (any order) a requeue sends, by their messages' ``states``
    (message id -> state; a record whose message id is missing there counts as
    ``gone``): the newest record of each ``gone`` message. A message its handler
    discarded (``Discard``: a record marked ``discarded``, among ``records`` or named in
    ``discarded``) is done, not gone: none of its records is sent."""
    plan = RequeuePlan()
    records = list(records)
    dropped = set(discarded) | {r.message_id for r in records if r.discarded and r.message_id}
    newest: dict[str, FailedRecord] = {}
    for rec in records:
        if rec.message_id in dropped:
            plan.skipped.setdefault("discarded", []).append(rec.id)
            continue
        state = states.get(rec.message_id, RecordState("gone"))
        if not state.requeuable:
            plan.skipped.setdefault(state.state, []).append(rec.id)
            continue
        key = rec.message_id or rec.id  # a record without a message id stands alone
        best = newest.get(key)
        if best is None or (rec.failed_at, rec.id) > (best.failed_at, best.id):
            if best is not None:
                plan.skipped.setdefault("duplicate", []).append(best.id)
            newest[key] = rec
        else:
            plan.skipped.setdefault("duplicate", []).append(rec.id)
    plan.send = [r.id for r in newest.values()]
    return plan
