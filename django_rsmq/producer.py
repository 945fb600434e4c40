"""Sending: ``send(queue, body, delay=, dedup_id=)`` and ``send_on_commit(...)``.

With ``RSMQ["EAGER"] = True`` nothing goes to Redis: the queue's handler runs inline,
in the sending process, with the same signals a consumer would send; its exception
propagates to the caller.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from . import signals
from .conf import rsmq_settings
from .connections import rsmq_for_queue
from .engine.errors import InvalidValue, QueueNotFound
from .engine.validation import check_duration, check_qname
from .inline import deliver_inline, deliver_inline_with
from .operations.queues import ensure_queue

__all__ = ["deliver_inline_with", "send", "send_on_commit"]


def send(
    queue: str,
    body: Any,
    *,
    delay: float | None = None,
    dedup_id: str | None = None,
    durable: int | None = None,
    unique_key: str | None = None,
    transactional: bool | None = None,
    using: str | None = None,
) -> str:
    """Send ``body`` to ``queue`` now; returns the message id.

    ``transactional=True`` writes it to the transactional outbox instead, in the
    current transaction on ``using`` (:func:`django_rsmq.outbox.send`; the return value
    is then the row's dedup id: the message gets its id when the relay sends it). By
    default (``None``) a queue with ``OUTBOX: True`` goes through the outbox inside
    ``transaction.atomic()`` and is sent at once outside one.

    The queue is created from its declared settings on first use (unless its
    ``AUTO_CREATE`` is ``False``). ``delay`` overrides the queue's delay (seconds).
    ``dedup_id``: a second send with the same id within the queue's ``DEDUP_WINDOW``
    is dropped and returns the first message's id. ``unique_key``: while a message sent
    with the same key is still in the queue (waiting, delayed or being handled), the send
    is dropped and returns that message's id; the key is free again once it is acked,
    dead-lettered or deleted. ``durable=N`` (default: the
    queue's ``DURABLE``) returns only once N replicas have the message, else raises
    :class:`~django_rsmq.engine.SendNotConfirmed` (docs/deployment.md).
    """
    check_qname(queue)
    if delay is not None:
        check_duration("delay", delay)
    cfg = rsmq_settings()
    if _through_outbox(queue, transactional, using):
        from . import outbox

        if unique_key is not None:
            raise InvalidValue("unique_key is not supported through the outbox (docs/outbox.md)")

        return outbox.send(queue, body, delay=delay, dedup_id=dedup_id, using=using)
    if cfg.eager:
        return deliver_inline(queue, body)
    rsmq = rsmq_for_queue(queue)
    q = cfg.queue(queue)
    kwargs: dict[str, Any] = {"delay": delay, "serializer": q.serializer, "dedup_id": dedup_id}
    if unique_key is not None:
        kwargs["unique_key"] = unique_key
    replicas = q.durable if durable is None else durable
    if replicas:
        kwargs.update(durable=replicas, durable_timeout=q.durable_timeout)
    try:
        message_id = rsmq.send(queue, body, **kwargs)
    except QueueNotFound:
        if not q.auto_create:
            raise
        ensure_queue(queue, rsmq)
        message_id = rsmq.send(queue, body, **kwargs)
    signals.message_sent.send(sender=queue, message_id=message_id, body=body, delay=delay)
    return message_id


def _through_outbox(queue: str, transactional: bool | None, using: str | None) -> bool:
    if transactional is not None:
        return transactional
    if rsmq_settings().queue(queue).outbox is not True:
        return False
    from .outbox.writer import database_for

    return bool(transaction.get_connection(database_for(using)).in_atomic_block)


def send_on_commit(
    queue: str,
    body: Any,
    *,
    delay: float | None = None,
    dedup_id: str | None = None,
    using: str | None = None,
) -> None:
    """Send once the current transaction on ``using`` commits (at once outside one).

    Nothing is sent if the transaction rolls back. Arguments are checked now, so a bad
    queue name fails at the call site, not after the commit.
    """
    check_qname(queue)
    if delay is not None:
        check_duration("delay", delay)

    def later() -> None:
        send(queue, body, delay=delay, dedup_id=dedup_id, transactional=False)

    transaction.on_commit(later, using=using)
