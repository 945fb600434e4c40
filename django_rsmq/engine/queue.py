"""The synchronous front end: :class:`RSMQ` runs the operations (engine/operations.py,
engine/batch.py, engine/reliability_methods.py) with blocking calls."""

from __future__ import annotations

from typing import Any

from .batch import BatchOps
from .handle import Handles, QueueOps
from .operation import SyncFront, Work, operation, sync_front
from .operations import MessageOps
from .reliability_methods import ReliabilityMethods
from .runner import SyncRunner
from .serializers import Serializer

__all__ = ["RSMQ", "Queue"]


@sync_front
class RSMQ(SyncRunner, MessageOps, BatchOps, ReliabilityMethods, Handles["Queue"]):
    """RSMQ operations on one Redis server and namespace.

    ``client`` is a redis-py client or a URL. ``realtime=True`` makes every send
    PUBLISH the queue's new message count on ``{ns}:rt:{qname}``, as Node ``rsmq``
    does; an iterable of queue names does so for those queues only. Long polls
    (``wait=``) of realtime queues sleep until a publish or until the next delayed or
    hidden message comes due; other queues are also re-checked every
    ``poll_interval`` seconds. ``serializer`` (name or object) is the default for
    every queue. :meth:`close` closes the long-poll pub/sub connection.
    """

    def __enter__(self) -> RSMQ:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _handle(self, qname: str, serializer: Serializer, realtime: bool | None) -> Queue:
        return Queue(self, qname, serializer, realtime=realtime)


@sync_front
class Queue(QueueOps, SyncFront):
    """One queue of an :class:`RSMQ`, with its own serializer (and realtime, if given)."""

    rsmq: RSMQ

    @operation
    def send(
        self,
        body: Any,
        *,
        delay: float | None = None,
        dedup_id: str | None = None,
        durable: int = 0,
    ) -> Work[str]:
        return self._send(body, delay, dedup_id, durable)
