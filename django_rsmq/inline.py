"""Eager mode's delivery (``RSMQ["EAGER"]``): a message handled inline, in the sender.

Used by :func:`django_rsmq.producer.send` and, on commit, by the outbox
(:func:`django_rsmq.outbox.send`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from . import signals
from .conf import rsmq_settings
from .engine import Message, Receipt, get_serializer
from .engine.ids import new_id, sent_ms

__all__ = ["deliver_inline", "deliver_inline_with"]


#: Eager mode's delivery: handles a message inline, as a consumer would. Sending sits
#: below the handler registry and the consumer and does not import them; the consumer
#: layer plugs its delivery in when Django starts (:func:`django_rsmq.consumer.eager.install`).
InlineDelivery = Callable[[Message], None]
_deliver_inline: InlineDelivery | None = None


def deliver_inline_with(delivery: InlineDelivery) -> None:
    """Set what eager mode does with a message instead of sending it to Redis."""
    global _deliver_inline
    _deliver_inline = delivery


def deliver_inline(queue: str, body: Any) -> str:
    """Eager mode's send: handle ``body`` inline now; returns the message id it got."""
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
