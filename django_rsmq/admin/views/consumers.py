"""Consumers registered in Redis; the ones whose heartbeat expired are marked stale."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from ...operations import stats
from .base import AdminPage
from .message import when


class ConsumersView(AdminPage):
    template_name = "admin/django_rsmq/consumers.html"
    title = "RSMQ consumers"

    def crumbs(self, **ctx: Any) -> list[dict[str, str]]:
        return self.trail(("Consumers", ""))

    def get(self, request: HttpRequest) -> HttpResponse:
        rows = [
            {"c": c, "started": when(c.started * 1000), "heartbeat": when(c.heartbeat * 1000)}
            for c in stats.consumers()
        ]
        return self.render(request, rows=rows)
