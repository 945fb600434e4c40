"""The asyncio front end: :class:`AsyncRSMQ` has every operation of
:class:`~django_rsmq.engine.RSMQ`, made from the same definitions (engine/operation.py),
each a coroutine."""

from __future__ import annotations

from typing import Any

from ..batch import BatchOps
from ..handle import Handles, QueueOps
from ..operation import AsyncFront, Work, async_front, operation
from ..operations import MessageOps
from ..reliability_methods import AsyncReliabilityMethods
from ..serializers import Serializer
from .runner import AsyncRunner

__all__ = ["AsyncQueue", "AsyncRSMQ"]


@async_front
class AsyncRSMQ(AsyncRunner, MessageOps, BatchOps, AsyncReliabilityMethods, Handles["AsyncQueue"]):
    """RSMQ operations over ``redis.asyncio``; see :class:`~django_rsmq.engine.RSMQ`.

    :meth:`aclose` stops the long-poll listener tasks (``async with`` does too).
    """

    async def __aenter__(self) -> AsyncRSMQ:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _handle(self, qname: str, serializer: Serializer, realtime: bool | None) -> AsyncQueue:
        return AsyncQueue(self, qname, serializer, realtime=realtime)


@async_front
class AsyncQueue(QueueOps, AsyncFront):
    """One queue of an :class:`AsyncRSMQ`, with its own serializer (and realtime, if given)."""

    rsmq: AsyncRSMQ

    @operation
    def send(
        self, body: Any, *, delay: float | None = None, dedup_id: str | None = None
    ) -> Work[str]:
        return self._send(body, delay, dedup_id, 0)
