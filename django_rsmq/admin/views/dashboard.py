"""The dashboard: one row per queue, totals on top."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from ...operations import stats
from .base import AdminPage
from .message import when


def _sum(values: list[Any]) -> int:
    return sum(v for v in values if v is not None)


class DashboardView(AdminPage):
    template_name = "admin/django_rsmq/dashboard.html"
    title = "RSMQ queues"

    def get(self, request: HttpRequest) -> HttpResponse:
        data = stats.collect()
        rows = [
            {
                "q": q,
                "url": self.url("queue", q.name) if q.exists else "",
                "dlq_url": self.url("dlq", q.name) if q.dead_letter_queue else "",
                "failed_url": self.url("failed", q.name) if q.exists else "",
            }
            for q in data.queues
        ]
        qs = data.queues
        tiles: list[tuple[str, int | str]] = [
            ("Queues", len(qs)),
            ("Visible", _sum([q.visible for q in qs])),
            ("In flight", _sum([q.in_flight for q in qs])),
            ("Delayed", _sum([q.delayed for q in qs])),
            ("Failed", _sum([q.failed for q in qs])),
            ("Consumers alive", sum(1 for c in data.consumers if c.alive)),
        ]
        if data.outbox:  # the transactional outbox is used (docs/outbox.md)
            ages = [o.oldest_age for o in data.outbox if o.oldest_age is not None]
            tiles += [
                ("Outbox rows", _sum([o.depth for o in data.outbox])),
                ("Oldest outbox row", f"{max(ages):.1f} s" if ages else "-"),
                ("Outbox relays", data.outbox[0].relays),
            ]
        return self.render(
            request, rows=rows, tiles=tiles, generated_at=when(data.generated_at * 1000)
        )
