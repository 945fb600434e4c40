"""``{% load rsmq_charts %}{% rsmq_charts queue %}``: a queue's history charts (the
range from the request's ``?range=``), so any RSMQ admin page shows them in one line."""

from __future__ import annotations

from typing import Any

from django import template

__all__ = ["rsmq_charts"]

register = template.Library()


@register.inclusion_tag("admin/django_rsmq/includes/chart.html", takes_context=True)
def rsmq_charts(context: dict[str, Any], queue: str | None = None) -> dict[str, Any]:
    """The throughput and depth charts of ``queue`` (``None``: all queues)."""
    from ..admin.charts import chart_context  # the admin needs the app registry ready

    return chart_context(context["request"], queue)
