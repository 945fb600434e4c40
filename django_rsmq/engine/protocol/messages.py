"""Message operations: send (batched), receive, pop, peek."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import ids, scripts
from ..errors import (
    MessageTooLong,
    QueueFull,
    RSMQError,
    SerializationError,
)
from ..keys import QueueKeys
from ..message import Message, MessageState, PeekedMessage, new_message
from ..reliability import check_dedup_id, check_unique_key
from ..serializers import Serializer
from ..validation import (
    check_duration,
    check_message_id,
)
from .base import (
    BATCH_MAX,
    DUPLICATE,
    OK,
    QUEUE_FULL,
    Call,
    Entry,
    Outcome,
    ProtocolBase,
    _body,
    _check_page,
    _entries,
    _int,
    _single,
    _status,
    check_count,
    to_str,
)


def _utf8(wire: str) -> str:
    """The wire text, refused with a typed error if it cannot be sent as UTF-8 (lone
    surrogates): otherwise redis-py would fail the whole call, batch included."""
    if wire.isascii():  # the common case, checked much faster than by encoding
        return wire
    try:
        wire.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SerializationError(f"Message body is not valid UTF-8 text: {exc}") from exc
    return wire


class MessageOps(ProtocolBase):
    def send_many(
        self,
        qname: str,
        entries: Iterable[Any],
        serializer: Serializer,
        *,
        delay: float | None = None,
        realtime: bool | None = None,
        dedup_id: str | None = None,
        unique_key: str | None = None,
    ) -> Call[list[Outcome[str]]]:
        """Send several messages in one script call. ``entries`` are bodies, or
        :class:`Entry` objects for a per-message delay and de-duplication id. Invalid
        entries (bad delay, unserializable body, too long, queue full) get an error
        outcome; the others are sent. A duplicate (its dedup id was sent within the
        queue's window) gets the first message's id and enqueues nothing, and so does a
        unique key held by a message still in the queue (that message's id).
        ``dedup_id`` and ``unique_key`` apply to a single plain body (:meth:`send`)."""
        q = self._q(qname)
        default_delay = "" if delay is None else check_duration("delay", delay)
        publish = self.is_realtime(qname) if realtime is None else realtime
        outcomes: list[Outcome[str] | None] = []
        args: list[str | int] = [q.channel if publish else ""]
        deduped = unique = False
        items = _entries(entries)
        # The ids are made here, before the call, so a replay after a lost reply sends
        # the same ones and send.lua stores nothing twice (consecutive µs: FIFO).
        fresh = ids.new_ids(len(items))
        for entry, mid in zip(items, fresh, strict=True):
            try:
                dedup, key = dedup_id, unique_key
                if isinstance(entry, Entry):
                    body = entry.body
                    d = (
                        default_delay
                        if entry.delay is None
                        else check_duration("delay", entry.delay)
                    )
                    dedup, key = entry.dedup_id, entry.unique_key
                else:
                    body, d = entry, default_delay
                raw = _utf8(serializer.dumps(body))
                did = "" if dedup is None else check_dedup_id(dedup)
                uk = "" if key is None else check_unique_key(key)
                deduped, unique = deduped or bool(did), unique or bool(uk)
                args += [mid, raw, d, did, uk]
                outcomes.append(None)
            except RSMQError as exc:
                outcomes.append(Outcome(error=exc))

        def parse(reply: Any) -> list[Outcome[str]]:
            r = _status(reply, qname)
            maxsize = int(r[1])
            sent = iter(range(2, len(r), 2))
            result: list[Outcome[str]] = []
            for known in outcomes:
                if known is not None:
                    result.append(known)
                    continue
                i = next(sent)
                code = int(r[i])
                if code in (OK, DUPLICATE):
                    result.append(Outcome(to_str(r[i + 1])))
                elif code == QUEUE_FULL:
                    result.append(Outcome(error=QueueFull(qname, int(r[i + 1]))))
                else:
                    result.append(Outcome(error=MessageTooLong(qname, int(r[i + 1]), maxsize)))
            return result

        return Call(scripts.get("send"), _send_keys(q, deduped, unique), tuple(args), parse)

    def send(
        self,
        qname: str,
        body: Any,
        serializer: Serializer,
        *,
        delay: float | None = None,
        realtime: bool | None = None,
        dedup_id: str | None = None,
        unique_key: str | None = None,
    ) -> Call[str]:
        if isinstance(body, Entry) or unique_key is not None:
            return _single(
                self.send_many(
                    qname,
                    [body],
                    serializer,
                    delay=delay,
                    realtime=realtime,
                    dedup_id=dedup_id,
                    unique_key=unique_key,
                )
            )
        # The hot path: the same checks and script call as a one-entry send_many, built
        # directly (errors raised instead of wrapped in an Outcome).
        q = self._q(qname)
        d: str | int = "" if delay is None else check_duration("delay", delay)
        publish = self.is_realtime(qname) if realtime is None else realtime
        raw = _utf8(serializer.dumps(body))
        keys: tuple[str, ...] = (q.hash, q.zset)
        did = ""
        if dedup_id is not None:
            did = check_dedup_id(dedup_id)
            keys = (q.hash, q.zset, q.dedup, q.dedup_index)
        args = (q.channel if publish else "", ids.new_id(), raw, d, did, "")

        def parse(reply: Any) -> str:
            r = _status(reply, qname)
            code = int(r[2])
            if code in (OK, DUPLICATE):
                return to_str(r[3])
            if code == QUEUE_FULL:
                raise QueueFull(qname, int(r[3]))
            raise MessageTooLong(qname, int(r[3]), int(r[1]))

        return Call(scripts.get("send"), keys, args, parse)

    def _messages(
        self, qname: str, reply: Any, serializer: Serializer, *, received: bool
    ) -> list[Message]:
        r = _status(reply, qname)
        out = []
        make = new_message
        for i in range(2, len(r), 4):
            mid, raw, rc, fr = r[i], r[i + 1], r[i + 2], r[i + 3]
            # The usual reply (bytes, an integer rc, an integer fr) without the helpers.
            mid = mid.decode("utf-8") if type(mid) is bytes else to_str(mid)
            raw = raw.decode("ascii") if type(raw) is bytes and raw.isascii() else _body(raw)
            rc = rc if type(rc) is int else int(rc)
            try:
                fr = int(fr)
            except (TypeError, ValueError):
                fr = _int(fr)
            try:
                sent = int(mid[:10], 36) / 1000  # ids.sent_ms, inlined
            except ValueError:
                sent = 0.0
            out.append(
                make(
                    qname,
                    mid,
                    raw,
                    rc,
                    fr,
                    sent,
                    f"{qname}:{mid}:{rc}" if received else "",
                    serializer,
                )
            )
        return out

    def receive(
        self, qname: str, serializer: Serializer, *, vt: float | None = None, count: int = 1
    ) -> Call[list[Message]]:
        q = self._q(qname)
        vt_ms = "" if vt is None else check_duration("vt", vt)
        check_count(count, BATCH_MAX)

        def parse(reply: Any) -> list[Message]:
            return self._messages(qname, reply, serializer, received=True)

        keys = (q.hash, q.zset, q.meta, q.queues, q.failed, q.failed_index, q.in_flight)
        args = (vt_ms, count, qname, q.channel, "1" if self.publishes_moves else "")
        return Call(scripts.get("receive"), keys, args, parse)

    def pop(self, qname: str, serializer: Serializer, *, count: int = 1) -> Call[list[Message]]:
        q = self._q(qname)
        check_count(count, BATCH_MAX)

        def parse(reply: Any) -> list[Message]:
            return self._messages(qname, reply, serializer, received=False)

        keys = (q.hash, q.zset, q.meta, q.queues, q.failed, q.failed_index, q.in_flight)
        args = (count, qname, q.channel, "1" if self.publishes_moves else "")
        return Call(scripts.get("pop"), keys, args, parse)

    def peek(
        self,
        qname: str,
        serializer: Serializer,
        *,
        offset: int = 0,
        limit: int = 20,
        message_id: str | None = None,
    ) -> Call[list[PeekedMessage]]:
        q = self._q(qname)
        if message_id is not None:
            check_message_id(message_id)
        _check_page(offset, limit)

        def parse(reply: Any) -> list[PeekedMessage]:
            r = _status(reply, qname, message_id or "")
            now = _int(r[1])
            out = []
            for i in range(2, len(r), 5):
                mid = to_str(r[i])
                visible_at = _int(r[i + 1])
                rc = _int(r[i + 3])
                fr = _int(r[i + 4]) if r[i + 4] is not None else None
                state: MessageState = (
                    "visible" if visible_at <= now else ("in_flight" if rc else "delayed")
                )
                out.append(
                    PeekedMessage(
                        queue=qname,
                        id=mid,
                        raw=_body(r[i + 2]),
                        rc=rc,
                        fr=fr,
                        sent=ids.sent_ms(mid),
                        visible_at=visible_at,
                        state=state,
                        serializer=serializer,
                    )
                )
            return out

        args = (offset, limit, message_id or "")
        return Call(scripts.get("peek"), (q.hash, q.zset), args, parse)


def _send_keys(q: QueueKeys, deduped: bool, unique: bool) -> tuple[str, ...]:
    """send.lua's KEYS: the dedup keys with a dedup id or a unique key, then the unique
    hash with a unique key."""
    if unique:
        return (q.hash, q.zset, q.dedup, q.dedup_index, q.unique)
    if deduped:
        return (q.hash, q.zset, q.dedup, q.dedup_index)
    return (q.hash, q.zset)
