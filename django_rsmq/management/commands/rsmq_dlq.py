"""``manage.py rsmq_dlq QUEUE list|requeue|purge``: the queue's dead-letter queue."""

from __future__ import annotations

from typing import Any

from ...operations import redrive
from ..redrive_command import RedriveCommand


class Command(RedriveCommand):
    help = "List, requeue (redrive) or purge the dead-letter queue of QUEUE."
    kind = "dlq"

    def rows(self, queue: str, offset: int, limit: int) -> list[dict[str, Any]]:
        return [
            {"id": m.id, "rc": m.rc, "sent": m.sent, "state": m.state, "body": m.raw}
            for m in redrive.dlq_list(queue, offset=offset, limit=limit)
        ]
