"""Dead-letter queues and failure records: list, requeue, delete, purge; and moving
messages between queues.

One code path for the ``rsmq_dlq`` / ``rsmq_failed`` commands and the admin: every
requeue or move goes through the engine's ``redrive`` / ``requeue_failed`` (atomic,
each message moves once even when two people click at once) and sends
``message_requeued``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from .. import signals
from ..conf import rsmq_settings
from ..connections import rsmq_for_queue
from ..engine import DeadLetterInfo, FailedRecord, Page, PeekedMessage, RedriveResult
from ..engine.errors import InvalidValue, MessageNotFound, QueueNotFound
from ..engine.reliability import default_dead_letter_queue
from ..engine.triage import SKIP_REASONS, RecordState, RequeuePlan, plan_requeue
from ..engine.validation import check_message_id
from . import messages

__all__ = [
    "SKIP_REASONS",
    "DeadLetterQueueMissing",
    "Requeued",
    "dead_letter_queue_of",
    "dlq_count",
    "dlq_delete",
    "dlq_infos",
    "dlq_list",
    "dlq_page",
    "dlq_purge",
    "dlq_requeue",
    "failed_count",
    "failed_delete",
    "failed_groups",
    "failed_list",
    "failed_plan",
    "failed_purge",
    "failed_record",
    "failed_records",
    "failed_requeue",
    "failed_states",
    "move",
]


class DeadLetterQueueMissing(LookupError):
    pass


@dataclass(frozen=True)
class Requeued:
    """``moved``: how many moved; ``missing``: ids that were already gone (or, for
    failure records, whose message changed state meanwhile); ``skipped``: failure
    records not sent, per reason (:data:`~django_rsmq.engine.triage.SKIP_REASONS`)."""

    moved: int
    missing: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def describe(self, verb: str = "Requeued") -> str:
        """``"Requeued 42, 3 were already gone, 5 skipped (its message succeeded later)"``."""
        text = f"{verb} {self.moved}"
        n = len(self.missing)
        if n:
            text += f", {n} {'was' if n == 1 else 'were'} already gone"
        for key, count in self.skipped.items():
            if count:
                text += f", {count} skipped ({SKIP_REASONS[key]})"
        return text


def _done(result: RedriveResult) -> Requeued:
    return Requeued(len(result.moved), list(result.missing))


def dead_letter_queue_of(queue: str) -> str:
    """The dead-letter queue of ``queue``: from settings (``DEAD_LETTER_QUEUE``, or
    ``<queue>-dlq`` with ``MAX_RECEIVES``), else from the queue's attributes in Redis
    (for queues made by other code). Raises :class:`DeadLetterQueueMissing`."""
    declared = rsmq_settings().queue(queue).dlq
    if declared:
        return declared
    try:
        attrs = rsmq_for_queue(queue).get_queue_attributes(queue)
    except QueueNotFound:
        attrs = None
    if attrs is not None and attrs.dead_letter_queue:
        return attrs.dead_letter_queue
    if attrs is not None and attrs.max_receives:
        return default_dead_letter_queue(queue)
    raise DeadLetterQueueMissing(f"Queue {queue!r} has no dead-letter queue")


# -- dead-letter queues --------------------------------------------------------------


def dlq_list(queue: str, *, offset: int = 0, limit: int = 20) -> list[PeekedMessage]:
    """Messages waiting in ``queue``'s dead-letter queue (nothing is changed)."""
    return dlq_page(queue, offset=offset, limit=limit).items


def dlq_page(
    queue: str, *, offset: int = 0, limit: int = 20, search: str | None = None
) -> Page[PeekedMessage]:
    """A page of ``queue``'s dead-letter queue, optionally searched (id or body)."""
    return messages.page(dead_letter_queue_of(queue), offset=offset, limit=limit, search=search)


def dlq_count(queue: str) -> int:
    return messages.count(dead_letter_queue_of(queue))


def _selection(ids: Sequence[str] | None) -> list[str] | None:
    """``None`` selects everything; any sequence, the empty one too, exactly its ids
    (``[]`` selects nothing: one rule for the engine, the API, the commands and the admin)."""
    return None if ids is None else list(ids)


def dlq_requeue(
    queue: str,
    *,
    ids: Sequence[str] | None = None,
    limit: int | None = None,
    to: str | None = None,
    reset_rc: bool = True,
    source: str = "command",
    user: Any = None,
) -> Requeued:
    """Move messages from ``queue``'s DLQ (all, ``ids`` or the oldest ``limit``) back,
    keeping their ids and bodies: each to the queue it was dead-lettered from (a DLQ
    shared by several queues sends each message home), one without that record to
    ``queue``; or all of them to ``to``."""
    dlq = dead_letter_queue_of(queue)
    result = rsmq_for_queue(dlq).redrive(
        dlq,
        ids=_selection(ids),
        limit=limit,
        to=to,
        default_to=None if to else queue,
        reset_rc=reset_rc,
    )
    done = _done(result)
    signals.message_requeued.send(
        sender=queue, ids=ids, moved=done.moved, to=to, source=source, user=user
    )
    return done


def dlq_delete(queue: str, ids: Sequence[str]) -> Requeued:
    """Delete messages from ``queue``'s DLQ (``moved`` counts the deleted ones)."""
    deleted, gone = messages.delete(dead_letter_queue_of(queue), list(ids))
    return Requeued(deleted, gone)


#: messages per step of a DLQ's "purge all" (one atomic drain.lua call each)
PURGE_CHUNK: Final = 500


def dlq_purge(queue: str, *, chunk: int = PURGE_CHUNK) -> int:
    """Delete every message of ``queue``'s DLQ in bounded steps of ``chunk`` (no single
    call blocks Redis for long, and a run cut short is finished by the next); messages
    dead-lettered meanwhile go too, up to the count there was at the start plus one
    chunk (a steady stream of new dead letters cannot keep it running)."""
    dlq = dead_letter_queue_of(queue)
    rsmq = rsmq_for_queue(dlq)
    budget = messages.count(dlq) + chunk
    removed = 0
    while removed < budget:
        n, left = rsmq.drain(dlq, min(chunk, budget - removed))
        removed += n
        if n == 0 or left == 0:
            break
    return removed


def dlq_infos(queue: str, ids: Sequence[str]) -> dict[str, DeadLetterInfo]:
    """Where and why each of these DLQ messages died (one call); messages put there by a
    plain RSMQ client have no entry."""
    dlq = dead_letter_queue_of(queue)
    infos = rsmq_for_queue(dlq).dead_letter_infos(dlq, list(ids)) if ids else []
    return {mid: info for mid, info in zip(ids, infos, strict=True) if info is not None}


# -- failure records -----------------------------------------------------------------


def failed_list(
    queue: str,
    *,
    offset: int = 0,
    limit: int = 20,
    exc_type: str | None = None,
    search: str | None = None,
    message_id: str | None = None,
    since: int | None = None,
    until: int | None = None,
) -> Page[FailedRecord]:
    """A page of ``queue``'s failure records, newest first (filtered by exception type,
    text in the type, message or traceback, message id, and failure time in epoch ms)."""
    return rsmq_for_queue(queue).failed(
        queue,
        offset=offset,
        limit=limit,
        exc_type=exc_type,
        search=search,
        message_id=message_id,
        since=since,
        until=until,
    )


def failed_groups(
    queue: str, *, search: str | None = None, since: int | None = None
) -> dict[str, int]:
    """How many failure records per exception type, most frequent first."""
    return rsmq_for_queue(queue).failed_groups(queue, search=search, since=since)


def failed_record(queue: str, record_id: str) -> FailedRecord:
    """One failure record; ``MessageNotFound`` when it is gone."""
    return rsmq_for_queue(queue).failed_record(queue, record_id)


def failed_count(queue: str) -> int:
    return failed_list(queue, limit=1).total


#: records per read while walking every record (each with its body: up to 64 KB)
WALK: Final = 100
#: message ids per lifecycle-state lookup (one read-only call)
STATES_CHUNK: Final = 500


def failed_records(
    queue: str, ids: Sequence[str] | None = None, **filters: Any
) -> list[FailedRecord]:
    """The records ``ids`` that still exist, or every record matching ``filters`` (those
    of :func:`failed_list`), read in pages of :data:`WALK` (records failed after the walk
    began are left out, so new failures do not shift the pages)."""
    rsmq = rsmq_for_queue(queue)
    if ids is not None:
        out = []
        for rid in ids:
            try:
                out.append(rsmq.failed_record(queue, rid))
            except MessageNotFound:
                continue
        return out
    records: list[FailedRecord] = []
    until: int | None = None  # the newest record's time: later pages ignore newer ones
    while True:
        page = rsmq.failed(queue, offset=len(records), limit=WALK, **{**filters, "until": until})
        records.extend(page.items)
        if len(page.items) < WALK or len(records) >= page.total:
            return records
        until = records[0].failed_at


def failed_states(queue: str, records: Sequence[FailedRecord]) -> dict[str, RecordState]:
    """The lifecycle state of each record's message (message id -> state), one
    read-only call per :data:`STATES_CHUNK` ids; a message id that is not an RSMQ id (a poison
    record) is ``gone``."""
    rsmq = rsmq_for_queue(queue)
    wanted: list[str] = []
    out: dict[str, RecordState] = {}
    for rec in records:
        mid = rec.message_id
        if mid in out or mid in wanted:
            continue
        try:
            wanted.append(check_message_id(mid))
        except InvalidValue:
            out[mid] = RecordState("gone")
    for start in range(0, len(wanted), STATES_CHUNK):
        chunk = wanted[start : start + STATES_CHUNK]
        for mid, (state, detail) in zip(chunk, rsmq.record_states(queue, chunk), strict=True):
            out[mid] = RecordState(state, detail)
    return out


def failed_plan(queue: str, ids: Sequence[str] | None = None) -> RequeuePlan:
    """What a requeue of records ``ids`` (``None``: all) would send and skip, and why
    (engine/triage.py)."""
    records = failed_records(queue, ids)
    # A selection may leave out the record that says its message was discarded.
    every = records if ids is None else failed_records(queue, None)
    discarded = {r.message_id for r in every if r.discarded and r.message_id}
    return plan_requeue(records, failed_states(queue, records), discarded)


def failed_requeue(
    queue: str,
    *,
    ids: Sequence[str] | None = None,
    limit: int | None = None,
    to: str | None = None,
    source: str = "command",
    user: Any = None,
) -> Requeued:
    """Send the bodies of failure records whose message is gone (neither succeeded nor
    still queued, in flight, dead-lettered or requeued already) as new messages (to
    ``queue`` or ``to``), one per message however many records it has, and drop those
    records (engine/triage.py). The engine checks the rule again atomically per record."""
    plan = failed_plan(queue, _selection(ids))
    send = plan.send if limit is None else plan.send[:limit]
    if send:
        result = rsmq_for_queue(queue).requeue_failed(queue, ids=send, to=to or queue, guard=True)
        done = _done(result)
    else:
        done = Requeued(0)
    done = Requeued(done.moved, done.missing, {k: len(v) for k, v in plan.skipped.items() if v})
    signals.message_requeued.send(
        sender=queue, ids=ids, moved=done.moved, to=to or queue, source=source, user=user
    )
    return done


def failed_delete(queue: str, ids: Sequence[str]) -> Requeued:
    """Delete some failure records (``moved`` counts the deleted ones)."""
    rsmq = rsmq_for_queue(queue)
    gone = [rid for rid in ids if not rsmq.delete_failed(queue, [rid])]
    return Requeued(len(ids) - len(gone), gone)


def failed_purge(queue: str) -> int:
    return rsmq_for_queue(queue).delete_failed(queue)


# -- moving ----------------------------------------------------------------------------


def move(
    queue: str, ids: Sequence[str], to: str, *, source: str = "command", user: Any = None
) -> Requeued:
    """Move messages of ``queue`` to queue ``to`` (same id and body, receivable at
    once), atomically per message. Raises ``QueueNotFound`` for an unknown ``to``."""
    rsmq = rsmq_for_queue(queue)
    if rsmq is not rsmq_for_queue(to):
        raise ValueError(f"Queues {queue!r} and {to!r} are on different connections")
    rsmq.get_queue_attributes(to)  # QueueNotFound before anything moves
    done = _done(rsmq.redrive(queue, ids=list(ids), to=to))
    signals.message_requeued.send(
        sender=queue, ids=list(ids), moved=done.moved, to=to, source=source, user=user
    )
    return done
