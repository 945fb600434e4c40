"""Queue operations: create, delete, attributes (RSMQ's and the reliability ones), purge."""

from __future__ import annotations

from typing import Any

from .. import ids, scripts
from ..errors import (
    NoAttributeSupplied,
)
from ..keys import QueueKeys
from ..message import QueueAttributes
from ..ratelimit import RateLimit
from ..reliability import (
    DEDUP_WINDOW_DEFAULT,
    DLQ_TARGET_FIELD,
    FAILED_CAP_DEFAULT,
    FAILED_TTL_DEFAULT,
    FIELDS,
    UNSET,
    config_pairs,
    default_dead_letter_queue,
)
from ..retry import RetryPolicy
from ..validation import (
    MAXSIZE_DEFAULT,
    check_int_seconds,
    check_maxsize,
)
from .base import (
    BATCH_MAX,
    Call,
    ProtocolBase,
    _int,
    _seconds,
    _status,
    check_count,
    to_str,
)

#: The most messages one ``purge_chunk`` call deletes.
PURGE_CHUNK_MAX = BATCH_MAX


def _cap(raw: str | None) -> int | None:
    """ext:cap "<max in flight>:<channel>" (reliability.CAP_FIELD): the cap, or None."""
    head = (raw or "").split(":", 1)[0]
    return int(head) if head.isdigit() and int(head) > 0 else None


def _opt(value: Any) -> str | None:
    return None if value is None else to_str(value)


#: Reliability settings with a default, which is what an unstored setting reads as.
SETTING_DEFAULTS: dict[str, Any] = {
    "dedup_window": DEDUP_WINDOW_DEFAULT,
    "failed_cap": FAILED_CAP_DEFAULT,
    "failed_ttl": FAILED_TTL_DEFAULT,
    "retention_action": "drop",
}


class QueueOps(ProtocolBase):
    def _config(self, q: QueueKeys, settings: dict[str, Any]) -> list[str]:
        """Default DLQ target, then the reliability field/value pairs (validated)."""
        pairs = config_pairs(q, settings)
        dlq = settings.get("dead_letter_queue", UNSET)
        if isinstance(dlq, str):
            pairs += [DLQ_TARGET_FIELD, self.keys.queue(dlq).as_target()]
        default = self.keys.queue(default_dead_letter_queue(q.name)).as_target()
        return [default, *pairs]

    def create_queue(
        self,
        qname: str,
        *,
        vt: int = 30,
        delay: int = 0,
        maxsize: int = MAXSIZE_DEFAULT,
        **reliability: Any,
    ) -> Call[None]:
        """``reliability``: the settings of docs/reliability.md (``max_receives``,
        ``dead_letter_queue``, ``retry``, ``retention``, ``retention_action``,
        ``max_messages``, ``dedup_window``, ``failed_cap``, ``failed_ttl``, ``rate_limit``,
        ``max_in_flight``)."""
        q = self._q(qname)
        args: tuple[str | int, ...] = (
            qname,
            check_int_seconds("vt", vt),
            check_int_seconds("delay", delay),
            check_maxsize(maxsize),
            # A setting left at its default (or None) is not stored: readers fill it in.
            *self._config(
                q,
                {
                    k: v
                    for k, v in reliability.items()
                    if v is not None and v != SETTING_DEFAULTS.get(k)
                },
            ),
        )

        def parse(reply: Any) -> None:
            _status(reply, qname)

        # Side keys left by an earlier queue of this name that a plain client deleted.
        keys = (q.hash, self.keys.queues, *q.side_keys())
        return Call(scripts.get("create_queue"), keys, args, parse)

    def delete_queue(self, qname: str) -> Call[None]:
        """Deletes the queue's RSMQ keys and every side key of it (meta, failed records,
        de-duplication entries, counter samples) in one script: nothing of it is left."""
        q = self._q(qname)

        def parse(reply: Any) -> None:
            _status(reply, qname)

        keys = (q.hash, q.zset, self.keys.queues, *q.side_keys())
        return Call(scripts.get("delete_queue"), keys, (qname,), parse)

    def get_queue_attributes(self, qname: str) -> Call[QueueAttributes]:
        q = self._q(qname)

        def parse(reply: Any) -> QueueAttributes:
            r = _status(reply, qname)
            now = _int(r[1])
            head = to_str(r[14]) if r[14] is not None else None
            ext = [_opt(v) for v in r[15:27]] + [None] * (12 - len(r[15:27]))
            return QueueAttributes(
                vt=_seconds(r[2]),
                delay=_seconds(r[3]),
                maxsize=_int(r[4], -1),
                totalrecv=_int(r[5]),
                totalsent=_int(r[6]),
                created=_int(r[7]),
                modified=_int(r[8]),
                msgs=int(r[9]),
                hiddenmsgs=int(r[10]),
                visible=int(r[11]),
                in_flight=int(r[12]),
                delayed=int(r[13]),
                oldest_age=max(0.0, (now - ids.sent_ms(head)) / 1000) if head else None,
                max_receives=None if ext[0] is None else _int(ext[0]),
                dead_letter_queue=ext[1],
                retry=None if ext[2] is None else RetryPolicy.from_field(ext[2]),
                retention=None if ext[3] is None else _seconds(ext[3]),
                retention_action="dead_letter" if ext[4] == "dead_letter" else "drop",
                max_messages=None if ext[5] is None else _int(ext[5]),
                dedup_window=DEDUP_WINDOW_DEFAULT if ext[6] is None else _seconds(ext[6]),
                failed_cap=FAILED_CAP_DEFAULT if ext[7] is None else _int(ext[7]),
                failed_ttl=FAILED_TTL_DEFAULT if ext[8] is None else _seconds(ext[8]),
                paused=ext[9] == "1",
                rate_limit=None if ext[10] is None else RateLimit.from_field(ext[10]),
                max_in_flight=_cap(ext[11]),
            )

        keys = (q.hash, q.zset, q.in_flight)
        return Call(scripts.get("get_queue_attributes"), keys, (), parse)

    def set_queue_attributes(
        self,
        qname: str,
        *,
        vt: int | None = None,
        delay: int | None = None,
        maxsize: int | None = None,
        **reliability: Any,
    ) -> Call[None]:
        """``reliability`` settings as in :meth:`create_queue`; ``None`` turns one off
        (back to its default), an omitted one is left as it is."""
        given = {k: v for k, v in reliability.items() if v is not UNSET}
        if vt is None and delay is None and maxsize is None and not given:
            raise NoAttributeSupplied(
                "No attribute was supplied: give vt, delay, maxsize or a reliability "
                f"setting ({', '.join(FIELDS)})"
            )
        q = self._q(qname)
        rsmq: list[str | int] = []
        if vt is not None:
            rsmq += ["vt", check_int_seconds("vt", vt)]
        if delay is not None:
            rsmq += ["delay", check_int_seconds("delay", delay)]
        if maxsize is not None:
            rsmq += ["maxsize", check_maxsize(maxsize)]
        for name, default in SETTING_DEFAULTS.items():
            if name in given and given[name] is None:  # None = back to the default
                given[name] = default
        args = (len(rsmq) // 2, *rsmq, *self._config(q, given))

        def parse(reply: Any) -> None:
            _status(reply, qname)

        return Call(scripts.get("set_queue_attributes"), (q.hash,), args, parse)

    def pause(self, qname: str, paused: bool) -> Call[bool]:
        """Pause (``True``) or resume a queue; the reply says whether that changed it."""
        q = self._q(qname)

        def parse(reply: Any) -> bool:
            return bool(int(_status(reply, qname)[1]))

        return Call(
            scripts.get("pause"), (q.hash, q.zset), ("1" if paused else "0", q.channel), parse
        )

    def purge(self, qname: str) -> Call[int]:
        q = self._q(qname)

        def parse(reply: Any) -> int:
            return int(_status(reply, qname)[1])

        return Call(scripts.get("purge"), (q.hash, q.zset, q.meta, q.in_flight), (), parse)

    def purge_chunk(self, qname: str, limit: int) -> Call[tuple[int, int]]:
        """Delete at most ``limit`` messages from the head: ``(removed, remaining)``."""
        q = self._q(qname)
        check_count(limit, PURGE_CHUNK_MAX)

        def parse(reply: Any) -> tuple[int, int]:
            r = _status(reply, qname)
            return int(r[1]), int(r[2])

        keys = (q.hash, q.zset, q.meta, q.in_flight)
        return Call(scripts.get("purge"), keys, (limit,), parse)
