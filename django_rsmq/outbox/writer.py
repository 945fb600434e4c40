"""Writing outbox rows: :func:`send`, and the commit hook that wakes the relay."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import DEFAULT_DB_ALIAS, router, transaction

from ..conf import rsmq_settings
from ..engine import get_serializer
from ..engine.reliability import check_dedup_id
from ..engine.validation import check_duration, check_qname
from ..inline import deliver_inline
from .wakeup import wake_on_commit

__all__ = ["database_for", "send"]

log = logging.getLogger("django_rsmq.outbox")


def database_for(using: str | None) -> str:
    """The database alias an outbox row goes to: ``using``, else the router's choice
    for writing :class:`OutboxMessage`, else ``default``."""
    if using is not None:
        return using
    from .model import OutboxMessage

    return router.db_for_write(OutboxMessage) or DEFAULT_DB_ALIAS


def send(
    queue: str,
    body: Any,
    *,
    delay: float | None = None,
    dedup_id: str | None = None,
    using: str | None = None,
) -> str:
    """Write ``body`` for ``queue`` as an outbox row in the current transaction on
    ``using``; returns the de-duplication id the relay sends it with.

    The row commits or rolls back with the transaction; after the commit the relay
    sends it (waking up at once: see :mod:`django_rsmq.outbox.wakeup`). The body is
    serialized now with the queue's serializer, so a body that cannot be serialized
    raises here. ``delay`` counts from the commit. ``dedup_id`` (else
    ``outbox:<random token>``) is what the relay sends with: a second row with the
    same id within the queue's ``DEDUP_WINDOW`` is dropped by Redis. Outside a
    transaction (autocommit) the row commits at once. With ``RSMQ["EAGER"]`` no row is
    written: the handler runs inline when the transaction commits.
    """
    check_qname(queue)
    if delay is not None:
        check_duration("delay", delay)
    if dedup_id is not None:
        check_dedup_id(dedup_id)
    cfg = rsmq_settings()
    raw = get_serializer(cfg.queue(queue).serializer).dumps(body)
    alias = database_for(using)
    did = dedup_id or f"outbox:{uuid.uuid4().hex}"
    if cfg.eager:
        transaction.on_commit(lambda: deliver_inline(queue, body), using=alias)
        return did
    from .model import OutboxMessage

    OutboxMessage.objects.using(alias).create(queue=queue, body=raw, delay=delay, dedup_id=did)
    wake_on_commit(alias)
    return did
