"""``manage.py rsmq_failed QUEUE list|requeue|purge``: the queue's failure records."""

from __future__ import annotations

from typing import Any

from ...operations import redrive
from ..redrive_command import RedriveCommand


class Command(RedriveCommand):
    help = "List, requeue or purge the failure records of QUEUE."
    kind = "failed"

    def rows(self, queue: str, offset: int, limit: int) -> list[dict[str, Any]]:
        page = redrive.failed_list(queue, offset=offset, limit=limit)
        fields = ("id", "message_id", "rc", "exc_type", "error", "failed_at", "dead_lettered")
        return [{f: getattr(r, f, None) for f in (*fields, "raw")} for r in page.items]
