"""Consumers registered in Redis; the ones whose heartbeat expired are marked stale."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from ... import stats
from .base import AdminPage


class ConsumersView(AdminPage):
    template_name = "admin/django_rsmq/consumers.html"
    title = "RSMQ consumers"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(request, consumers=stats.consumers())
