"""The admin's audit trail: every mutating action of the RSMQ pages calls :func:`record`,
which writes a ``LogEntry`` (shown under "Recent actions" and in the admin's log) and sends
:data:`django_rsmq.signals.admin_action`.

The ``LogEntry`` is attached to the unmanaged ``Queue`` model's content type with the
queue name as ``object_id``; its ``change_message`` is the one-line ``detail``.
"""

from __future__ import annotations

from typing import Literal

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest

from .. import signals
from ..models import Queue

__all__ = ["Kind", "record"]

#: ``"change"`` for requeues, moves and edits; ``"delete"`` for deletes and purges;
#: ``"add"`` for what creates (a message sent from the admin)
Kind = Literal["add", "change", "delete"]

_FLAGS = {"add": ADDITION, "change": CHANGE, "delete": DELETION}


def record(
    request: HttpRequest, *, action: str, queue: str, detail: str, kind: Kind = "change"
) -> None:
    """Record that ``request.user`` did ``action`` (a short slug such as ``"purge"``) on
    ``queue``; ``detail`` says what, with counts ("purged 120 messages")."""
    user = request.user
    if user.is_authenticated:
        LogEntry.objects.create(
            user_id=user.pk,
            content_type_id=ContentType.objects.get_for_model(Queue, for_concrete_model=False).pk,
            object_id=queue,
            object_repr=queue[:200],
            action_flag=_FLAGS[kind],
            change_message=f"{action}: {detail}",
        )
    signals.admin_action.send(sender=queue, action=action, detail=detail, user=user, kind=kind)
