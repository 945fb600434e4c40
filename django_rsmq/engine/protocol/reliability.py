"""Reliability operations: nack, fail, failed records, dead-letter info, redrive,
retention purge and the side-data sweep (docs/reliability.md)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from typing import Any, Literal

from .. import ids, scripts
from ..errors import BodyDecodeError, InvalidValue, StaleReceipt
from ..message import Message, Receipt
from ..redrive import redrive_plan
from ..reliability import DeadLetterInfo, FailedRecord, FailResult, Page, RedriveResult
from ..serializers import Serializer
from ..validation import check_duration, check_message_id
from .base import STALE, Call, CallPlan, ProtocolBase, _body, _check_page, _int, _status, to_str
from .fenced import quarantine

_rng = random.SystemRandom()

#: What :meth:`ReliabilityOps.fail` does after recording the failure (fail.lua's mode).
FailThen = Literal["retry", "dead_letter", "discard"]
_FAIL_MODES: dict[str, str] = {"retry": "", "dead_letter": "dead", "discard": "discard"}


def _fenced(reply: Any, receipt: Receipt) -> list[Any]:
    """Status check for receipt-fenced scripts: STALE → :class:`StaleReceipt`."""
    if int(reply[0]) == STALE:
        raise StaleReceipt(receipt.queue, receipt.id, receipt.rc, int(reply[1]))
    return _status(reply, receipt.queue, receipt.id)


def _error_json(error: BaseException | str, traceback: str | None) -> str:
    if isinstance(error, BaseException):
        cls = type(error)
        etype = (
            cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
        )
        text = str(error)
    elif isinstance(error, str):
        etype, text = "str", error
    else:
        raise InvalidValue(f"error must be an exception or a str, got {error!r}")
    data: dict[str, str] = {"type": etype, "message": text}
    if traceback is not None:
        data["traceback"] = traceback
    return json.dumps(data, separators=(",", ":"))


def _range(since: int | None, until: int | None) -> tuple[str, str]:
    for name, v in (("since", since), ("until", until)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise InvalidValue(f"{name} must be epoch ms (an int >= 0) or None, got {v!r}")
    return ("" if since is None else str(since), "" if until is None else str(until))


def _loads(value: Any) -> dict[str, Any]:
    try:
        data = json.loads(to_str(value))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class ReliabilityOps(ProtocolBase):
    def nack(self, receipt: str | Receipt | Message, delay: float | None = None) -> Call[float]:
        """Make a received message receivable again after ``delay`` seconds, or the
        delay the queue's retry policy gives for its rc (0 without a policy)."""
        rcpt = Receipt.parse(receipt)
        q = self._q(rcpt.queue)
        d = "" if delay is None else check_duration("delay", delay)

        def parse(reply: Any) -> float:
            return int(_fenced(reply, rcpt)[1]) / 1000

        args = (rcpt.id, rcpt.rc, d, repr(_rng.random()))
        return Call(scripts.get("nack"), (q.hash, q.zset, q.meta, q.in_flight), args, parse)

    def fail(
        self,
        receipt: str | Receipt | Message,
        error: BaseException | str,
        *,
        traceback: str | None = None,
        delay: float | None = None,
        then: FailThen = "retry",
    ) -> Call[FailResult]:
        """Record a failure, then retry by policy (or after ``delay`` seconds) or
        dead-letter, in one atomic step; ``then="dead_letter"`` dead-letters whatever
        the receive count, ``then="discard"`` drops the message. An undecodable body
        (:class:`BodyDecodeError`) is quarantined instead."""
        rcpt = Receipt.parse(receipt)
        if isinstance(error, BodyDecodeError):
            return quarantine(self, rcpt, "undecodable", _error_json(error, traceback))
        q = self._q(rcpt.queue)

        def parse(reply: Any) -> FailResult:
            r = _fenced(reply, rcpt)
            code = int(r[2])
            return FailResult(
                retry_in=None if code else int(r[3]) / 1000,
                dead_lettered=code == 1,
                record_id=to_str(r[1]),
                discarded=code == 2,
            )

        keys = (q.hash, q.zset, q.meta, q.queues, q.failed, q.failed_index, q.in_flight)
        args = (
            rcpt.queue,
            rcpt.id,
            rcpt.rc,
            ids.random_suffix(),
            _error_json(error, traceback),
            repr(_rng.random()),
            q.channel,
            "1" if self.publishes_moves else "",
            "" if delay is None else check_duration("delay", delay),
            _FAIL_MODES[then],
        )
        return Call(scripts.get("fail"), keys, args, parse)

    def failed(
        self,
        qname: str,
        serializer: Serializer,
        *,
        offset: int = 0,
        limit: int = 20,
        exc_type: str | None = None,
        search: str | None = None,
        record_id: str | None = None,
        message_id: str | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> Call[Page[FailedRecord]]:
        """A page of the queue's failure records, newest first, optionally only those of
        exception type ``exc_type`` (exact, as stored: ``ValueError``, ``app.errors.Boom``),
        of message ``message_id``, failed in ``[since, until]`` (epoch ms) and/or
        containing ``search`` (case-insensitive for ASCII) in the type, message or
        traceback."""
        q = self._q(qname)
        _check_page(offset, limit)
        if record_id is not None:
            check_message_id(record_id)
        if message_id is not None:
            check_message_id(message_id)

        def parse(reply: Any) -> Page[FailedRecord]:
            r = _status(reply, qname, record_id or "")
            items = []
            for i in range(2, len(r), 4):
                e, m = _loads(r[i + 1]), _loads(r[i + 2])
                items.append(
                    FailedRecord(
                        id=to_str(r[i]),
                        queue=str(m.get("queue", qname)),
                        message_id=str(m.get("id", "")),
                        raw=_body(r[i + 3]),
                        rc=int(m.get("rc", 0)),
                        exc_type=str(e.get("type", "")),
                        error=str(e.get("message", "")),
                        traceback=e.get("traceback"),
                        failed_at=int(m.get("at", 0)),
                        dead_lettered=bool(m.get("dead", False)),
                        retry_in=None if m.get("retry_in") is None else m["retry_in"] / 1000,
                        discarded=bool(m.get("discarded", False)),
                        serializer=serializer,
                    )
                )
            return Page(items, _int(r[1]))

        args = (
            offset,
            limit,
            exc_type or "",
            (search or "").lower(),
            record_id or "",
            message_id or "",
            *_range(since, until),
        )
        return Call(scripts.get("failed"), (q.hash, q.failed, q.failed_index), args, parse)

    def failed_groups(
        self,
        qname: str,
        *,
        search: str | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> Call[dict[str, int]]:
        """How many failure records per exception type (most frequent first), optionally
        of those failed in ``[since, until]`` (epoch ms) and containing ``search``."""
        q = self._q(qname)

        def parse(reply: Any) -> dict[str, int]:
            r = _status(reply, qname)
            pairs = [(to_str(r[i]), int(r[i + 1])) for i in range(2, len(r), 2)]
            return dict(sorted(pairs, key=lambda p: (-p[1], p[0])))

        args = (0, 1, "", (search or "").lower(), "", "", *_range(since, until), "1")
        return Call(scripts.get("failed"), (q.hash, q.failed, q.failed_index), args, parse)

    def record_states(self, qname: str, message_ids: Iterable[str]) -> Call[list[tuple[str, str]]]:
        """Where each message (of failure records) is now: ``(state, detail)`` per id, see
        :mod:`django_rsmq.engine.triage`. One read-only call."""
        q = self._q(qname)
        wanted = [check_message_id(m) for m in message_ids]

        def parse(reply: Any) -> list[tuple[str, str]]:
            r = _status(reply, qname)
            return [(to_str(r[i]), to_str(r[i + 1])) for i in range(1, len(r), 2)]

        keys = (q.hash, q.zset, q.in_flight, q.failed, q.meta)
        return Call(scripts.get("record_states"), keys, tuple(wanted), parse)

    def delete_failed(self, qname: str, record_ids: Iterable[str] | None = None) -> Call[int]:
        """Delete failure records (all when ``record_ids`` is None); returns how many."""
        q = self._q(qname)
        rids = [] if record_ids is None else [check_message_id(r) for r in record_ids]
        if record_ids is not None and not rids:
            raise InvalidValue("record_ids is empty: pass None to delete every record")

        def parse(reply: Any) -> int:
            return int(_status(reply, qname)[1])

        return Call(scripts.get("delete_failed"), (q.failed, q.failed_index), tuple(rids), parse)

    def dead_letter_info(
        self, dlq: str, message_ids: Iterable[str]
    ) -> Call[list[DeadLetterInfo | None]]:
        """Where each DLQ message came from and why (``None``: not in the DLQ, or put
        there by a plain RSMQ client)."""
        q = self._q(dlq)
        wanted = [check_message_id(m) for m in message_ids]

        def parse(reply: Any) -> list[DeadLetterInfo | None]:
            r = _status(reply, dlq)
            out: list[DeadLetterInfo | None] = []
            for mid, raw in zip(wanted, r[1:], strict=True):
                if raw is None:
                    out.append(None)
                    continue
                d = _loads(raw)
                err: dict[str, Any] = d["err"] if isinstance(d.get("err"), dict) else {}
                out.append(
                    DeadLetterInfo(
                        queue=str(d.get("src", {}).get("name", "")),
                        message_id=mid,
                        rc=int(d.get("rc", 0)),
                        first_received=None if d.get("fr") is None else int(d["fr"]),
                        last_received=None if d.get("lr") is None else int(d["lr"]),
                        dead_lettered_at=int(d.get("at", 0)),
                        reason=d.get("reason", "max_receives"),
                        error_type=err.get("type"),
                        error=err.get("message"),
                        record_id=err.get("record") or None,
                    )
                )
            return out

        return Call(scripts.get("dead_letter_info"), (q.hash, q.zset, q.meta), tuple(wanted), parse)

    def drain(self, qname: str, count: int) -> Call[tuple[int, int]]:
        """Remove the ``count`` oldest messages of a queue (one bounded step of a purge in
        chunks): ``(removed, left)``."""
        q = self._q(qname)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 10_000:
            raise InvalidValue(f"count must be an int from 1 to 10000, got {count!r}")

        def parse(reply: Any) -> tuple[int, int]:
            r = _status(reply, qname)
            return int(r[1]), int(r[2])

        keys = (q.hash, q.zset, q.meta, q.in_flight)
        return Call(scripts.get("drain"), keys, (count,), parse)

    def redrive(
        self,
        dlq: str,
        *,
        ids: Iterable[str] | None = None,
        limit: int | None = None,
        to: str | None = None,
        default_to: str | None = None,
        reset_rc: bool = True,
    ) -> CallPlan[RedriveResult]:
        """Move messages from a DLQ back to their source queue (or ``to``); those with
        no record of their source to ``default_to`` (else they stay)."""
        return redrive_plan(
            "dlq",
            self._q(dlq),
            ids=ids,
            limit=limit,
            to=None if to is None else self._q(to),
            default_to=None if default_to is None else self._q(default_to),
            reset_rc=reset_rc,
            realtime=self.publishes_moves,
        )

    def requeue_failed(
        self,
        qname: str,
        *,
        ids: Iterable[str] | None = None,
        limit: int | None = None,
        to: str | None = None,
        guard: bool = False,
    ) -> CallPlan[RedriveResult]:
        """Send failure records' bodies as new messages to their queue (or ``to``) and
        delete the records (with ``guard``, only those whose message is done for neither
        way: see engine/triage.py). Records written for an earlier queue of this name (a peer
        deleted and recreated it) are dropped first, never requeued."""
        q = self._q(qname)
        target = None if to is None else self._q(to)
        # The failed script drops stale records (and those past failed_ttl) before it
        # reads one; its page is not needed, nor its status (a missing queue is reported
        # by the redrive as before).
        yield Call(
            scripts.get("failed"),
            (q.hash, q.failed, q.failed_index),
            (0, 1, "", "", ""),
            lambda reply: None,
        )
        result: RedriveResult = yield from redrive_plan(
            "failed", q, ids=ids, limit=limit, to=target, realtime=self.publishes_moves, guard=guard
        )
        return result

    def purge_expired(self, qname: str) -> CallPlan[int]:
        """Drop (or dead-letter) every message past the queue's retention period."""
        q = self._q(qname)
        keys = (q.hash, q.zset, q.meta, q.queues, q.in_flight)
        cursor, total = "0", 0
        while True:
            step: tuple[str, int] = yield Call(
                scripts.get("purge_expired"),
                keys,
                (qname, cursor, q.channel, "1" if self.publishes_moves else ""),
                _cursor_step(qname),
            )
            cursor, n = step
            total += n
            if cursor == "0":
                return total

    def sweep(self, qname: str) -> CallPlan[None]:
        """Drop side data of messages that plain RSMQ clients deleted or popped (the
        receive script does this a bounded step at a time; this does a full pass),
        expired de-duplication entries, unique keys of messages that left, and failure
        records and dedup entries written
        for an earlier queue of this name. On a queue a plain client deleted, deletes all
        its side keys."""
        q = self._q(qname)

        def parse(reply: Any) -> tuple[str, int]:
            return to_str(_status(reply, qname)[1]), 0

        keys = (
            *q.message_keys(),
            *(q.failed, q.failed_index, q.dedup, q.dedup_index, q.samples, q.in_flight),
            q.unique,
        )
        fresh = "1"  # start a new pass at cursor 0
        while True:
            step: tuple[str, int] = yield Call(
                scripts.get("sweep"),
                keys,
                (fresh,),
                parse,
            )
            fresh = ""
            if step[0] == "0":
                return


def _cursor_step(qname: str) -> Any:
    def parse(reply: Any) -> tuple[str, int]:
        r = _status(reply, qname)
        return to_str(r[1]), int(r[2])

    return parse
