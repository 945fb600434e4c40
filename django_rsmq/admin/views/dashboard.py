"""The dashboard: totals, history charts and one row per queue, filterable
(``?q=`` on the server, instantly in the browser) and refreshed in place every few
seconds by ``django_rsmq/dashboard.js`` (which fetches ``?partial=1``: the live part)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from ...operations import stats
from ..charts import chart_context
from .base import AdminPage
from .message import when

#: seconds between two refreshes of the dashboard's live part
REFRESH_SECONDS = 5


def _sum(values: list[Any]) -> int:
    return sum(v for v in values if v is not None)


class DashboardView(AdminPage):
    template_name = "admin/django_rsmq/dashboard.html"
    live_template = "admin/django_rsmq/includes/dashboard_live.html"
    title = "RSMQ queues"

    def get(self, request: HttpRequest) -> HttpResponse:
        data = stats.collect()
        needle = request.GET.get("q", "").strip()
        qs = [q for q in data.queues if needle.lower() in q.name.lower()] if needle else data.queues
        # One reverse() per kind of link, not three per queue (1,000 queues: 3,000 reverses).
        marker = "__rsmq_q__"
        queue_url, dlq_url, failed_url = (
            self.url(name, marker) for name in ("queue", "dlq", "failed")
        )
        rows = [
            {
                "q": q,
                "url": queue_url.replace(marker, q.name) if q.exists else "",
                "dlq_url": dlq_url.replace(marker, q.name) if q.dead_letter_queue else "",
                "failed_url": failed_url.replace(marker, q.name) if q.exists else "",
            }
            for q in qs
        ]
        dlq_totals = {q.dead_letter_queue: q.dlq for q in qs if q.dead_letter_queue}
        sent_rates = [q.sent_per_minute for q in qs if q.sent_per_minute is not None]
        tiles = [
            ("Queues", "queues", len(qs), "int"),
            ("Visible", "visible", _sum([q.visible for q in qs]), "int"),
            ("In flight", "in_flight", _sum([q.in_flight for q in qs]), "int"),
            ("Delayed", "delayed", _sum([q.delayed for q in qs]), "int"),
            ("Failed", "failed", _sum([q.failed for q in qs]), "int"),
            ("In DLQs", "dlq", _sum(list(dlq_totals.values())), "int"),
            ("Sent/min", "sent_per_minute", sum(sent_rates) if sent_rates else None, "rate"),
            ("Consumers alive", "consumers", sum(1 for c in data.consumers if c.alive), "int"),
        ]
        extra = {
            "rows": rows,
            "tiles": [{"label": t[0], "key": t[1], "n": t[2], "kind": t[3]} for t in tiles],
            "generated_at": when(data.generated_at * 1000),
            "needle": needle,
            "total_queues": len(data.queues),
            "refresh_seconds": REFRESH_SECONDS,
            **chart_context(request, None),
        }
        if request.GET.get("partial"):
            response = TemplateResponse(request, self.live_template, self.context(request, **extra))
            response["Cache-Control"] = "no-store"
            return response
        return self.render(request, **extra)
