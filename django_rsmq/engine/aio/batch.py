"""Batch operations of the asyncio front end (see :mod:`django_rsmq.engine.batch`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..message import Message, Receipt
from ..protocol import Entry, Outcome
from ..serializers import Serializer
from .runner import AsyncRunner

__all__ = ["AsyncBatchOps"]


class AsyncBatchOps(AsyncRunner):
    async def send_many(
        self,
        qname: str,
        entries: Iterable[Any | Entry],
        *,
        delay: float | None = None,
        serializer: str | Serializer | None = None,
        realtime: bool | None = None,
    ) -> list[Outcome[str]]:
        """See :meth:`django_rsmq.engine.RSMQ.send_many`."""
        call = self.protocol.send_many(
            qname, entries, self._serializer(serializer), delay=delay, realtime=realtime
        )
        return await self._run(call)

    async def pop_many(
        self, qname: str, count: int, *, serializer: str | Serializer | None = None
    ) -> list[Message]:
        return await self._run(self.protocol.pop(qname, self._serializer(serializer), count=count))

    async def delete_many(self, qname: str, message_ids: Iterable[str]) -> list[Outcome[bool]]:
        return await self._run(self.protocol.delete_many(qname, message_ids))

    async def ack_many(self, receipts: Iterable[str | Receipt | Message]) -> list[Outcome[None]]:
        """See :meth:`django_rsmq.engine.RSMQ.ack_many`."""
        batch = self._ack_batch(receipts)
        return batch.merge(await self._run_calls(batch.calls))

    async def change_visibility_many(
        self, qname: str, message_ids: Iterable[str], vt: float
    ) -> list[Outcome[bool]]:
        return await self._run(self.protocol.change_visibility_many(qname, message_ids, vt))

    async def change_visibility_by_receipt_many(
        self, receipts: Iterable[str | Receipt | Message], vt: float
    ) -> list[Outcome[None]]:
        batch = self._visibility_batch(receipts, vt)
        return batch.merge(await self._run_calls(batch.calls))
