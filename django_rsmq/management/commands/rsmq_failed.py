"""``manage.py rsmq_failed QUEUE list|requeue|purge``: the queue's failure records."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any

from ... import redrive
from ..redrive_command import RedriveCommand


class Command(RedriveCommand):
    help = "List, requeue or purge the failure records of QUEUE."
    kind = "failed"

    def rows(self, queue: str, offset: int, limit: int) -> list[dict[str, Any]]:
        page = redrive.failed_list(queue, offset=offset, limit=limit)
        return [
            {k: v for k, v in asdict(r).items() if k != "serializer"}
            for r in page.items
            if is_dataclass(r)
        ]
