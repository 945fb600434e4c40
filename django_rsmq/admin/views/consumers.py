"""Consumers registered in Redis; the ones whose heartbeat expired are marked stale
(still with their host, pid and queues) and can be forgotten behind a confirm page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from ...operations import consumers as consumer_ops
from ...operations import stats
from ..audit import record
from .base import AdminPage
from .message import when


class ConsumersView(AdminPage):
    template_name = "admin/django_rsmq/consumers.html"
    title = "RSMQ consumers"

    def crumbs(self, **ctx: Any) -> list[dict[str, str]]:
        return self.trail(("Consumers", ""))

    def get(self, request: HttpRequest) -> HttpResponse:
        found = stats.consumers()
        rows = [
            {"c": c, "started": when(c.started * 1000), "heartbeat": when(c.heartbeat * 1000)}
            for c in found
        ]
        return self.render(
            request,
            rows=rows,
            stale_count=sum(1 for c in found if not c.alive),
            forget_url=self.url("consumers_forget"),
        )


class ForgetStaleConsumersView(AdminPage):
    """GET: the confirm page with the count. POST: drop the stale consumers (audited)."""

    template_name = "admin/django_rsmq/confirm.html"
    title = "Forget stale consumers?"
    needs = {"GET": ("delete",), "POST": ("delete",)}

    def crumbs(self, **ctx: Any) -> list[dict[str, str]]:
        return self.trail(("Consumers", self.url("consumers")), ("Forget stale", ""))

    def get(self, request: HttpRequest) -> HttpResponse:
        count = len(consumer_ops.stale())
        return self.render(
            request,
            count=count,
            question=(
                f"Forget {count} stale consumer(s)? Their entries leave the consumers page; "
                "a consumer that is still running re-registers at its next heartbeat."
            ),
            confirm_label="Yes, forget them",
            back_url=self.url("consumers"),
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        n = consumer_ops.forget_stale()
        record(
            request,
            action="forget_stale_consumers",
            queue="*",
            detail=f"forgot {n} stale consumer(s)",
            kind="delete",
        )
        return self.done(request, f"Forgot {n} stale consumer(s).", self.url("consumers"))
