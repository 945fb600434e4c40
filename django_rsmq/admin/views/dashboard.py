"""The dashboard: totals, history charts and one row per queue, filterable
(``?q=`` on the server, instantly in the browser) and refreshed in place every few
seconds by ``django_rsmq/dashboard.js`` (which fetches ``?partial=1``: the live part)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from ...operations import stats
from ...operations.queues import known_queues
from ...operations.stats import QueueStats
from ...templatetags.rsmq_format import DASH, duration, rate, thousands
from ..charts import chart_context
from .base import AdminPage
from .message import when

#: seconds between two refreshes of the dashboard's live part
REFRESH_SECONDS = 5


def _sum(values: list[Any]) -> int:
    return sum(v for v in values if v is not None)


_ROW = (
    '<tr data-queue="{name}"><th class="field-name">{link}</th>'
    '<td class="num field-visible">{visible}</td>'
    '<td class="num field-in_flight">{in_flight}</td>'
    '<td class="num field-delayed">{delayed}</td>'
    '<td class="num field-sent">{sent}</td>'
    '<td class="num field-received">{received}</td>'
    '<td class="num field-failed">{failed}</td>'
    '<td class="num field-dlq">{dlq}</td>'
    '<td class="num field-oldest_age">{oldest}</td>'
    '<td class="num field-throughput">{throughput}</td>'
    '<td class="num field-consumers">{consumers}</td>'
    '<td class="field-attributes">{attributes}</td></tr>\n'
)


def _row_html(q: QueueStats, row: dict[str, Any]) -> SafeString:
    """One queue's table row, built here rather than in the template: with 1,000 queues
    the template's per-cell lookups and filters were half of the page's server time."""
    if row["url"]:
        link = format_html('<a href="{}">{}</a>', row["url"], q.name)
    else:
        link = format_html('{} <span class="quiet">(not created)</span>', q.name)
    failed = format_html('<a href="{}">{}</a>', row["failed_url"], thousands(q.failed))
    dlq = (
        format_html(
            '<a href="{}" title="{}">{}</a>',
            row["dlq_url"],
            q.dead_letter_queue,
            thousands(q.dlq or 0),
        )
        if row["dlq_url"]
        else DASH
    )
    attributes = ""
    if q.exists:
        attributes = (
            f"vt {duration(q.vt)} · delay {duration(q.delay)} · maxsize {thousands(q.maxsize)}"
        )
        if q.max_receives:
            attributes += f" · max receives {q.max_receives}"
        if q.rate_limit:
            attributes += f" · rate {q.rate_limit}"
        if q.max_in_flight:
            attributes += f" · max {q.max_in_flight} in flight"
        if q.paused:
            attributes = "PAUSED · " + attributes
    attributes += f" · {q.connection}"
    return format_html(
        _ROW,
        name=q.name,
        link=link,
        visible=thousands(q.visible),
        in_flight=thousands(q.in_flight),
        delayed=thousands(q.delayed),
        sent=thousands(q.sent),
        received=thousands(q.received),
        failed=failed if row["failed_url"] else DASH,
        dlq=dlq,
        oldest=duration(q.oldest_age),
        throughput=rate(q.received_per_minute),
        consumers=thousands(q.consumers),
        attributes=attributes,
    )


def _refresh(request: HttpRequest) -> int:
    """Seconds between refreshes: ``?refresh=N`` (1-300), else :data:`REFRESH_SECONDS`."""
    try:
        n = int(request.GET.get("refresh", REFRESH_SECONDS))
    except ValueError:
        return REFRESH_SECONDS
    return min(300, max(1, n))


class DashboardView(AdminPage):
    template_name = "admin/django_rsmq/dashboard.html"
    live_template = "admin/django_rsmq/includes/dashboard_live.html"
    title = "RSMQ queues"

    def get(self, request: HttpRequest) -> HttpResponse:
        needle = request.GET.get("q", "").strip()
        data = stats.collect(match=needle or None)  # only the matching queues are read
        qs = data.queues
        # One reverse() per kind of link, not three per queue (1,000 queues: 3,000 reverses).
        marker = "__rsmq_q__"
        queue_url, dlq_url, failed_url = (
            self.url(name, marker) for name in ("queue", "dlq", "failed")
        )
        rows: list[dict[str, Any]] = [
            {
                "q": q,
                "url": queue_url.replace(marker, q.name) if q.exists else "",
                "dlq_url": dlq_url.replace(marker, q.name) if q.dead_letter_queue else "",
                "failed_url": failed_url.replace(marker, q.name) if q.exists else "",
            }
            for q in qs
        ]
        rows_html = mark_safe("".join(_row_html(row["q"], row) for row in rows))
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
        if data.outbox:  # the transactional outbox is used (docs/outbox.md)
            ages = [o.oldest_age for o in data.outbox if o.oldest_age is not None]
            tiles += [
                ("Outbox rows", "outbox_rows", _sum([o.depth for o in data.outbox]), "int"),
                ("Oldest outbox row", "outbox_oldest", max(ages) if ages else None, "duration"),
                ("Outbox relays", "outbox_relays", data.outbox[0].relays, "int"),
            ]
        extra = {
            "rows": rows,
            "rows_html": rows_html,
            "tiles": [{"label": t[0], "key": t[1], "n": t[2], "kind": t[3]} for t in tiles],
            "generated_at": when(data.generated_at * 1000),
            "warnings": data.warnings,
            "needle": needle,
            "total_queues": len(known_queues()) if needle else len(qs),
            "refresh_seconds": _refresh(request),
            **chart_context(request, None),
        }
        if request.GET.get("partial"):
            response = TemplateResponse(request, self.live_template, self.context(request, **extra))
            response["Cache-Control"] = "no-store"
            return response
        return self.render(request, **extra)
