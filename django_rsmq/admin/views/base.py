"""What every RSMQ admin page shares: permission checks, 404s for unknown queues and
messages, a 503 page when Redis is unreachable, the admin context, URLs of the current
admin site."""

from __future__ import annotations

from typing import Any, ClassVar

import django
import redis.exceptions
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views import View

from ...conf import rsmq_settings
from ...engine.errors import InvalidName, MessageNotFound, QueueNotFound
from ...models import Queue
from ...operations.redrive import DeadLetterQueueMissing
from ..permissions import allowed, require

__all__ = ["NOT_FOUND", "REDIS_DOWN", "AdminPage", "connection_aliases", "url_name"]

#: library errors that mean "no such queue / message / DLQ": shown as 404
NOT_FOUND = (QueueNotFound, MessageNotFound, DeadLetterQueueMissing, InvalidName)

#: errors that mean "Redis is unreachable": shown as a 503 page naming the connection
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def connection_aliases(queue: str | None = None) -> list[str]:
    """The connection alias(es) a page reads: its queue's, or every declared queue's."""
    cfg = rsmq_settings()
    if queue:
        return [cfg.queue(queue).connection]
    return sorted({q.connection for q in cfg.queues.values()} or {"default"})


def url_name(name: str) -> str:
    return f"django_rsmq_{name}"


class AdminPage(View):
    """A page of the RSMQ admin. Every request needs ``view``, plus the actions
    :meth:`permissions` lists for its method (``needs`` by default)."""

    model_admin: admin.ModelAdmin[Any] | None = None
    template_name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    needs: ClassVar[dict[str, tuple[str, ...]]] = {}  # method -> actions beyond "view"

    @property
    def admin_site(self) -> admin.AdminSite:
        assert self.model_admin is not None
        return self.model_admin.admin_site

    def permissions(self, request: HttpRequest, **kwargs: Any) -> tuple[str, ...]:
        return self.needs.get(request.method or "GET", ())

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        require(request, "view", *self.permissions(request, **kwargs))
        try:
            return super().dispatch(request, *args, **kwargs)
        except NOT_FOUND as exc:
            raise Http404(str(exc)) from exc
        except REDIS_DOWN as exc:
            return self.redis_down(request, exc, kwargs.get("queue"))

    def redis_down(
        self, request: HttpRequest, exc: Exception, queue: str | None
    ) -> TemplateResponse:
        """503: which connection (alias) could not be reached, and the error."""
        aliases = connection_aliases(queue)
        ctx = self.context(
            request,
            title="Redis is unreachable",
            aliases=aliases,
            error=f"{type(exc).__name__}: {exc}",
            queue=queue or "",
            crumbs=[{"label": "Redis is unreachable", "url": ""}],
        )
        response = TemplateResponse(request, "admin/django_rsmq/redis_down.html", ctx, status=503)
        response["Retry-After"] = "10"
        return response

    def trail(self, *crumbs: tuple[str, str]) -> list[dict[str, str]]:
        """``Queues`` (linked) followed by ``crumbs``; the last one is the current page."""
        items = [("Queues", self.url("queue_changelist")), *crumbs]
        return [
            {"label": label, "url": "" if i == len(items) - 1 else url}
            for i, (label, url) in enumerate(items)
        ]

    def url(self, name: str, *args: Any, query: str = "") -> str:
        path = reverse(f"admin:{url_name(name)}", args=args, current_app=self.admin_site.name)
        return path + query

    def crumbs(self, **ctx: Any) -> list[dict[str, str]]:
        """Breadcrumbs after "Home > RSMQ": ``(label, url)``, the last without a url."""
        return [{"label": "Queues", "url": ""}]

    def context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": Queue._meta,
            "title": self.title,
            "can": allowed(request),
            "dashboard_url": self.url("queue_changelist"),
            "consumers_url": self.url("consumers"),
            "schedules_url": self.url("schedules"),
            "stats_url": self.url("stats"),
            "metrics_url": self.url("metrics"),
            "rsmq_breadcrumbs_list": django.VERSION >= (6, 0),
            **extra,
            "crumbs": extra["crumbs"] if "crumbs" in extra else self.crumbs(**extra),
        }

    def render(self, request: HttpRequest, **extra: Any) -> TemplateResponse:
        return TemplateResponse(request, self.template_name, self.context(request, **extra))

    def done(
        self, request: HttpRequest, text: str, to: str, *, level: int = messages.SUCCESS
    ) -> HttpResponseRedirect:
        """Report an outcome with Django messages and redirect (post/redirect/get)."""
        messages.add_message(request, level, text)
        return HttpResponseRedirect(to)
