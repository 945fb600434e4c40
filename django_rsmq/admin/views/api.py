"""``stats.json`` and Prometheus ``metrics``: for a staff session with the view
permission, or ``Authorization: Bearer <RSMQ["API_TOKEN"]>`` (compared in constant
time). Never a token in the URL.

With Redis unreachable ``stats.json`` is a 503 naming the connection(s) and the error, and
``metrics`` still answers 200 with ``rsmq_up 0`` (so the scrape is not blind)."""

from __future__ import annotations

import hmac
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from ...conf import rsmq_settings
from ...operations import metrics, stats
from ..permissions import has_permission
from .base import REDIS_DOWN, connection_aliases

__all__ = ["MetricsView", "StatsJsonView", "authorized"]


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authorized(request: HttpRequest) -> bool:
    """A valid bearer token, or a staff session allowed to view."""
    expected = rsmq_settings().api_token
    given = _bearer(request)
    if given is not None:
        return bool(expected) and hmac.compare_digest(given.encode(), str(expected).encode())
    return has_permission(request, "view")


def _denied(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("Authentication required\n", status=401, content_type="text/plain")
    response["WWW-Authenticate"] = 'Bearer realm="rsmq"'
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        response.status_code = 403
        response.content = b"Forbidden\n"
    return response


@method_decorator(never_cache, name="dispatch")
class _ApiView(View):
    http_method_names = ["get", "head"]
    model_admin: Any = None  # accepted so the admin can build it like its pages

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not authorized(request):
            return _denied(request)
        return super().dispatch(request, *args, **kwargs)


class StatsJsonView(_ApiView):
    """The same document as ``manage.py rsmq_stats --json``."""

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            return JsonResponse(stats.collect().as_dict())
        except REDIS_DOWN as exc:
            error = {
                "error": "redis unreachable",
                "connections": connection_aliases(),
                "detail": f"{type(exc).__name__}: {exc}",
            }
            return JsonResponse(error, status=503)


class MetricsView(_ApiView):
    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            text = metrics.render(stats.collect())
        except REDIS_DOWN:
            text = metrics.render_down()
        return HttpResponse(text, content_type=metrics.CONTENT_TYPE)
