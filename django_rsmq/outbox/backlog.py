"""What waits in an outbox table: depth, oldest row's age, rows whose send failed."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Min, Q
from django.utils import timezone

__all__ = ["Backlog", "backlog"]


@dataclass(frozen=True)
class Backlog:
    database: str
    depth: int  # committed rows not relayed yet
    oldest_age: float | None  # seconds since the oldest row was written (None: empty)
    failing: int  # rows whose last send failed (queue full, too long, ...)

    @property
    def oldest_age_text(self) -> str:
        return "-" if self.oldest_age is None else f"{self.oldest_age:.1f}s"

    def as_dict(self) -> dict[str, object]:
        return {
            "database": self.database,
            "depth": self.depth,
            "oldest_age": self.oldest_age,
            "failing": self.failing,
        }


def backlog(database: str) -> Backlog:
    """One query (``COUNT``, ``MIN(created)``); raises the database's errors."""
    from .model import OutboxMessage

    row = OutboxMessage.objects.using(database).aggregate(
        depth=Count("id"), oldest=Min("created"), failing=Count("id", filter=Q(attempts__gt=0))
    )
    oldest = row["oldest"]
    age = None if oldest is None else max(0.0, (timezone.now() - oldest).total_seconds())
    return Backlog(database, int(row["depth"]), age, int(row["failing"]))
