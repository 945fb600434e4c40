"""The outbox table: one row per message written in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone

__all__ = ["OutboxMessage"]


class OutboxMessage(models.Model):
    """A message committed with the data it describes, waiting for the relay.

    ``body`` is already serialized (with the queue's serializer, at write time);
    ``dedup_id`` is the caller's, else ``outbox:<token>``: the relay sends the row with
    it, so a row sent twice (a relay killed between its send and its delete) is
    enqueued once within the queue's ``DEDUP_WINDOW`` (docs/outbox.md).
    """

    id: models.BigAutoField[int, int] = models.BigAutoField(primary_key=True)
    queue: models.CharField[str, str] = models.CharField(max_length=160)
    body: models.TextField[str, str] = models.TextField()
    delay: models.FloatField[float | None, float | None] = models.FloatField(
        null=True, blank=True
    )  # seconds after the commit
    dedup_id: models.CharField[str, str] = models.CharField(max_length=128)
    created: models.DateTimeField[datetime, datetime] = models.DateTimeField(default=timezone.now)
    attempts: models.PositiveIntegerField[int, int] = models.PositiveIntegerField(
        default=0
    )  # sends that failed for this row
    error: models.TextField[str, str] = models.TextField(
        blank=True, default=""
    )  # the last such failure

    class Meta:
        db_table = "django_rsmq_outbox"
        verbose_name = "outbox message"
        verbose_name_plural = "outbox messages"
        default_permissions = ()

    def __str__(self) -> str:
        return f"outbox #{self.id} -> {self.queue}"
