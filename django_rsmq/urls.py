"""Includable URLconf with the monitoring endpoints, outside the admin::

    path("rsmq/", include("django_rsmq.urls"))

gives ``rsmq/stats.json`` and ``rsmq/metrics`` (names ``django_rsmq:stats`` and
``django_rsmq:metrics``), readable with ``Authorization: Bearer <RSMQ["API_TOKEN"]>``
or by a staff session with the view permission. The admin serves the same views
under ``<admin>/django_rsmq/queue/stats.json`` and ``.../metrics``.
"""

from __future__ import annotations

from django.urls import path

from .admin.views.api import MetricsView, StatsJsonView

app_name = "django_rsmq"

urlpatterns = [
    path("stats.json", StatsJsonView.as_view(), name="stats"),
    path("metrics", MetricsView.as_view(), name="metrics"),
]
