"""Sending: ``send(queue, body, delay=, dedup_id=)`` and ``send_on_commit(...)``.

With ``RSMQ["EAGER"] = True`` nothing goes to Redis: the queue's handler runs inline,
in the sending process, with the same signals a consumer would send; its exception
propagates to the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from . import signals
from .conf import rsmq_settings
from .connections import rsmq_for_queue
from .engine import Message, Receipt, get_serializer
from .engine.errors import QueueNotFound
from .engine.ids import new_id, sent_ms
from .engine.validation import check_duration, check_qname
from .operations.queues import ensure_queue

__all__ = ["deliver_inline_with", "send", "send_on_commit"]


#: Eager mode's delivery: handles a message inline, as a consumer would. Sending sits
#: below the handler registry and the consumer and does not import them; the consumer
#: layer plugs its delivery in when Django starts (:func:`django_rsmq.consumer.eager.install`).
InlineDelivery = Callable[[Message], None]
_deliver_inline: InlineDelivery | None = None


def deliver_inline_with(delivery: InlineDelivery) -> None:
    """Set what eager mode does with a message instead of sending it to Redis."""
    global _deliver_inline
    _deliver_inline = delivery


def _eager(queue: str, body: Any) -> str:
    if _deliver_inline is None:
        raise ImproperlyConfigured(
            "RSMQ['EAGER'] runs handlers through the django_rsmq app: "
            "add 'django_rsmq' to INSTALLED_APPS"
        )
    serializer = get_serializer(rsmq_settings().queue(queue).serializer)
    raw = serializer.dumps(body)
    message_id = new_id()
    signals.message_sent.send(sender=queue, message_id=message_id, body=body, delay=None)
    sent = sent_ms(message_id)
    _deliver_inline(
        Message(
            queue=queue,
            id=message_id,
            raw=raw,
            rc=1,
            fr=int(sent),
            sent=sent,
            receipt=str(Receipt(queue, message_id, 1)),
            serializer=serializer,
        )
    )
    return message_id


def send(
    queue: str,
    body: Any,
    *,
    delay: float | None = None,
    dedup_id: str | None = None,
    durable: int | None = None,
    unique_key: str | None = None,
) -> str:
    """Send ``body`` to ``queue`` now; returns the message id.

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
    if cfg.eager:
        return _eager(queue, body)
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
        send(queue, body, delay=delay, dedup_id=dedup_id)

    transaction.on_commit(later, using=using)
