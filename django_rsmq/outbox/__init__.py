"""The transactional outbox: a message committed with the data it describes.

``outbox.send(queue, body, ...)`` writes the serialized message as a row of
:class:`~django_rsmq.outbox.model.OutboxMessage` in the caller's transaction; the
relay (:class:`~django_rsmq.outbox.relay.Relay`: ``rsmq_relay``, or a thread of
``rsmq_consume``) moves committed rows to Redis, each with a de-duplication id derived
from the row, and deletes them. See docs/outbox.md.
"""

from __future__ import annotations

from .writer import send

__all__ = ["send"]
