"""Queue operations: create, delete, attributes, purge."""

from __future__ import annotations

from typing import Any

from .. import ids, scripts
from ..errors import (
    NoAttributeSupplied,
)
from ..message import QueueAttributes
from ..validation import (
    MAXSIZE_DEFAULT,
    check_int_seconds,
    check_maxsize,
)
from .base import (
    Call,
    ProtocolBase,
    _int,
    _seconds,
    _status,
    to_str,
)


class QueueOps(ProtocolBase):
    def create_queue(
        self, qname: str, *, vt: int = 30, delay: int = 0, maxsize: int = MAXSIZE_DEFAULT
    ) -> Call[None]:
        q = self._q(qname)
        args = (
            qname,
            check_int_seconds("vt", vt),
            check_int_seconds("delay", delay),
            check_maxsize(maxsize),
        )

        def parse(reply: Any) -> None:
            _status(reply, qname)

        return Call(scripts.get("create_queue"), (q.hash, self.keys.queues), args, parse)

    def delete_queue(self, qname: str) -> Call[None]:
        q = self._q(qname)

        def parse(reply: Any) -> None:
            _status(reply, qname)

        return Call(
            scripts.get("delete_queue"), (q.hash, q.zset, self.keys.queues), (qname,), parse
        )

    def get_queue_attributes(self, qname: str) -> Call[QueueAttributes]:
        q = self._q(qname)

        def parse(reply: Any) -> QueueAttributes:
            r = _status(reply, qname)
            now = _int(r[1])
            head = to_str(r[14]) if r[14] is not None else None
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
            )

        return Call(scripts.get("get_queue_attributes"), (q.hash, q.zset), (), parse)

    def set_queue_attributes(
        self,
        qname: str,
        *,
        vt: int | None = None,
        delay: int | None = None,
        maxsize: int | None = None,
    ) -> Call[None]:
        if vt is None and delay is None and maxsize is None:
            raise NoAttributeSupplied("No attribute was supplied: give vt, delay or maxsize")
        q = self._q(qname)
        args: list[str | int] = []
        if vt is not None:
            args += ["vt", check_int_seconds("vt", vt)]
        if delay is not None:
            args += ["delay", check_int_seconds("delay", delay)]
        if maxsize is not None:
            args += ["maxsize", check_maxsize(maxsize)]

        def parse(reply: Any) -> None:
            _status(reply, qname)

        return Call(scripts.get("set_queue_attributes"), (q.hash,), tuple(args), parse)

    def purge(self, qname: str) -> Call[int]:
        q = self._q(qname)

        def parse(reply: Any) -> int:
            return int(_status(reply, qname)[1])

        return Call(scripts.get("purge"), (q.hash, q.zset), (), parse)

    # -- messages -----------------------------------------------------------------------
