"""Delete and visibility changes, by bare id (RSMQ) or fenced by receipt, batched."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .. import scripts
from ..errors import (
    MessageNotFound,
    RSMQError,
    StaleReceipt,
)
from ..keys import QueueKeys
from ..message import Message, Receipt
from ..reliability import FailResult
from ..validation import (
    check_duration,
    check_message_id,
)
from .base import (
    NO_MESSAGE,
    OK,
    STALE,
    Call,
    Outcome,
    ProtocolBase,
    T,
    _entries,
    _single,
    _status,
    to_str,
)


def _none(value: int) -> None:
    return None


class FencedOps(ProtocolBase):
    def delete_many(self, qname: str, message_ids: Iterable[str]) -> Call[list[Outcome[bool]]]:
        """Delete by bare ids (RSMQ semantics): per id ``True`` if it was there."""
        q = self._q(qname)
        targets: list[tuple[str, int | None] | Exception] = []
        for mid in _entries(message_ids):
            try:
                targets.append((check_message_id(mid), None))
            except RSMQError as exc:
                targets.append(exc)
        return self._fenced_batch("delete", q, targets, (), lambda v: bool(v))

    def ack_many(
        self, receipts: Iterable[str | Receipt | Message]
    ) -> dict[str, Call[list[Outcome[None]]]]:
        """Fenced deletes grouped by queue (one call per queue)."""
        return self._by_queue(receipts, lambda q, targets: self.ack_group(q.name, targets))

    def ack_group(
        self, qname: str, targets: list[tuple[str, int | None] | Exception]
    ) -> Call[list[Outcome[None]]]:
        """Fenced deletes of one queue's ``(id, rc)`` targets in one call."""
        return self._fenced_batch("delete", self._q(qname), targets, (), _none)

    def visibility_group(
        self, qname: str, targets: list[tuple[str, int | None] | Exception], vt: float
    ) -> Call[list[Outcome[None]]]:
        """Fenced visibility changes of one queue's ``(id, rc)`` targets in one call."""
        vt_ms = check_duration("vt", vt)
        return self._fenced_batch("change_visibility", self._q(qname), targets, (vt_ms,), _none)

    def change_visibility_many(
        self, qname: str, message_ids: Iterable[str], vt: float
    ) -> Call[list[Outcome[bool]]]:
        q = self._q(qname)
        vt_ms = check_duration("vt", vt)
        targets: list[tuple[str, int | None] | Exception] = []
        for mid in _entries(message_ids):
            try:
                targets.append((check_message_id(mid), None))
            except RSMQError as exc:
                targets.append(exc)
        return self._fenced_batch("change_visibility", q, targets, (vt_ms,), lambda v: bool(v))

    def change_visibility_by_receipt_many(
        self, receipts: Iterable[str | Receipt | Message], vt: float
    ) -> dict[str, Call[list[Outcome[None]]]]:
        vt_ms = check_duration("vt", vt)
        return self._by_queue(
            receipts,
            lambda q, targets: self._fenced_batch(
                "change_visibility", q, targets, (vt_ms,), lambda v: None
            ),
        )

    def delete(self, qname: str, message_id: str) -> Call[bool]:
        return _single(self.delete_many(qname, [message_id]))

    def ack(self, receipt: str | Receipt | Message) -> Call[None]:
        rcpt = Receipt.parse(receipt)
        q = self._q(rcpt.queue)
        return _single(self._fenced_batch("delete", q, [(rcpt.id, rcpt.rc)], (), _none))

    def change_visibility(self, qname: str, message_id: str, vt: float) -> Call[bool]:
        return _single(self.change_visibility_many(qname, [message_id], vt))

    def change_visibility_by_receipt(
        self, receipt: str | Receipt | Message, vt: float
    ) -> Call[None]:
        rcpt = Receipt.parse(receipt)
        return _single(self.change_visibility_by_receipt_many([rcpt], vt)[rcpt.queue])

    def _by_queue(
        self,
        receipts: Iterable[str | Receipt | Message],
        build: Callable[
            [QueueKeys, list[tuple[str, int | None] | Exception]], Call[list[Outcome[T]]]
        ],
    ) -> dict[str, Call[list[Outcome[T]]]]:
        groups: dict[str, list[tuple[str, int | None] | Exception]] = {}
        for r in _entries(receipts):
            rcpt = Receipt.parse(r)
            groups.setdefault(rcpt.queue, []).append((rcpt.id, rcpt.rc))
        return {qname: build(self._q(qname), targets) for qname, targets in groups.items()}

    def _fenced_batch(
        self,
        script: str,
        q: QueueKeys,
        targets: list[tuple[str, int | None] | Exception],
        extra: tuple[str | int, ...],
        value: Callable[[int], T],
    ) -> Call[list[Outcome[T]]]:
        """One script call over (id, rc-or-None) targets: per target ``code, value``."""
        args: list[str | int] = []
        for t in targets:
            if not isinstance(t, Exception):
                args += [t[0], *extra, "" if t[1] is None else t[1]]

        def parse(reply: Any, replay: bool = False) -> list[Outcome[T]]:
            r = _status(reply, q.name)
            pos = iter(range(1, len(r), 2))
            out: list[Outcome[T]] = []
            for t in targets:
                if isinstance(t, Exception):
                    out.append(Outcome(error=t))
                    continue
                i = next(pos)
                code, v = int(r[i]), int(r[i + 1])
                if replay and code in (OK, NO_MESSAGE):
                    # A delete replayed after a lost reply: a message found gone was
                    # removed by the first run (the runner only replays delete.lua).
                    out.append(Outcome(value(1)))
                elif code == OK:
                    out.append(Outcome(value(v)))
                elif code == STALE:
                    out.append(Outcome(error=StaleReceipt(q.name, t[0], t[1] or 0, v)))
                else:
                    out.append(Outcome(error=MessageNotFound(q.name, t[0])))
            return out

        keys: tuple[str, ...] = (q.hash, q.zset, q.meta, q.in_flight)
        if script == "delete":  # replay-safe (scripts.REPLAY_SAFE): tolerate a replay
            # the failed records: an ack of a message that failed before marks it there
            keys += (q.failed, q.failed_index)
            return Call(scripts.get(script), keys, tuple(args), parse, lambda r: parse(r, True))
        return Call(scripts.get(script), keys, tuple(args), parse)


def quarantine(ops: ProtocolBase, rcpt: Receipt, reason: str, error_json: str) -> Call[FailResult]:
    """Take a received message that cannot be handled (``reason``: ``"undecodable"``)
    out of its queue at once, fenced by its receipt: to the DLQ when the queue has one,
    else into a failure record (docs/reliability.md "Poison data"). ``fail()`` of a
    :class:`BodyDecodeError` comes here: retrying a body that cannot be decoded only
    loops."""
    q = ops._q(rcpt.queue)

    def parse(reply: Any) -> FailResult:
        if int(reply[0]) == STALE:
            raise StaleReceipt(rcpt.queue, rcpt.id, rcpt.rc, int(reply[1]))
        r = _status(reply, rcpt.queue, rcpt.id)
        return FailResult(retry_in=None, dead_lettered=int(r[2]) == 1, record_id=to_str(r[1]))

    keys = (q.hash, q.zset, q.meta, q.queues, q.failed, q.failed_index, q.in_flight)
    publish = "1" if ops.publishes_moves else ""
    args = (rcpt.queue, rcpt.id, rcpt.rc, reason, error_json, q.channel, publish)
    return Call(scripts.get("quarantine"), keys, args, parse)
