"""The app's models: the transactional outbox's table (:mod:`django_rsmq.outbox.model`)
and an unmanaged model that gives the admin an "RSMQ / Queues" entry and permissions.

For ``Queue`` no table is ever created (``managed = False``); its migration exists so
Django creates the content type and the permissions below.
"""

from __future__ import annotations

from django.db import models

from .outbox.model import OutboxMessage  # the transactional outbox's table (docs/outbox.md)

__all__ = ["OutboxMessage", "Queue"]


class Queue(models.Model):
    """Stands for the queues in Redis in the admin; holds no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = "queue"
        verbose_name_plural = "queues"
        permissions = [
            ("view_queue", "Can view RSMQ queues, messages, consumers and stats"),
            ("requeue_message", "Can requeue RSMQ messages (DLQ, failed, move, make visible)"),
            ("delete_message", "Can delete RSMQ messages and failure records"),
            ("purge_queue", "Can purge RSMQ queues, dead-letter queues and failed lists"),
            ("change_queue_attributes", "Can change RSMQ queue attributes"),
            ("send_message", "Can send RSMQ messages (run a periodic message now)"),
        ]

    def __str__(self) -> str:
        return "RSMQ queues"
