"""``QueueAdmin``: the RSMQ pages as the "Queues" entry of an admin site.

The model is unmanaged (no table); ``get_urls`` replaces the usual changelist/add/
change URLs with the RSMQ pages, so no ``urls.py`` edit is needed. Queues are
addressed by name: ``<admin>/django_rsmq/queue/q/<queue>/...``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, register_converter

from ..models import Queue
from . import views
from .permissions import has_permission
from .views.base import url_name

__all__ = ["QueueAdmin", "register"]


class QueueNameConverter:
    regex = "[A-Za-z0-9_-]{1,160}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class IdConverter:
    regex = "[A-Za-z0-9]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(QueueNameConverter, "rsmq_queue")
register_converter(IdConverter, "rsmq_id")


class QueueAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Shows the RSMQ pages; there are no rows to add, change or delete."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_permission(request, "view")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_permission(request, "view")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = views.DashboardView.as_view(model_admin=self)(request)
        assert isinstance(response, HttpResponse)
        return response

    def get_urls(self) -> list[URLPattern]:
        site = self.admin_site

        def page(
            route: str, view: Any, name: str, *, admin_view: bool = True, **init: Any
        ) -> URLPattern:
            func = view.as_view(model_admin=self, **init)
            target = site.admin_view(func) if admin_view else func
            pattern: URLPattern = path(route, target, name=url_name(name))
            return pattern

        q = "q/<rsmq_queue:queue>/"
        return [
            page("", views.DashboardView, "queue_changelist"),
            page("consumers/", views.ConsumersView, "consumers"),
            page("consumers/forget-stale/", views.ForgetStaleConsumersView, "consumers_forget"),
            page("stats.json", views.StatsJsonView, "stats", admin_view=False),
            page("metrics", views.MetricsView, "metrics", admin_view=False),
            page(q, views.QueueView, "queue"),
            page("schedules/", views.SchedulesView, "schedules"),
            page("schedules/<str:name>/run/", views.RunScheduleView, "schedule_run"),
            page(f"{q}purge/", views.PurgeQueueView, "queue_purge"),
            page(f"{q}pause/", views.PauseQueueView, "queue_pause"),
            page(f"{q}resume/", views.PauseQueueView, "queue_resume", resume=True),
            page(f"{q}messages/<rsmq_id:message_id>/", views.MessageView, "message"),
            page(
                f"{q}messages/<rsmq_id:message_id>/<slug:action>/",
                views.MessageActionView,
                "message_action",
            ),
            page(f"{q}dlq/", views.RecordsView, "dlq", kind_name="dlq"),
            page(f"{q}failed/", views.RecordsView, "failed", kind_name="failed"),
            page(f"{q}failed/<rsmq_id:record_id>/", views.RecordView, "failed_record"),
            page(f"{q}<slug:kind>/all/<slug:op>/", views.RecordsAllView, "records_all"),
            # where a LogEntry links (Django's "<id>/change/"); last, so that the page of a
            # queue named "change" (q/change/) still wins over queue "q"'s audit link
            page("<str:object_id>/change/", views.QueueLinkView, "queue_change"),
        ]


def register(site: admin.AdminSite) -> None:
    """Add the RSMQ pages to ``site`` (``django.contrib.admin.site`` is done for you
    unless ``RSMQ["ADMIN"]["ENABLED"]`` is False)."""
    if not site.is_registered(Queue):
        site.register(Queue, QueueAdmin)
