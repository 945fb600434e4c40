"""The periodic messages of ``RSMQ["SCHEDULE"]``: each entry's schedule, next and last
run, and a *Run now* button (POST, the ``send`` permission, audited) that sends the
entry's message outside its ticks, through :func:`django_rsmq.periodic.run_now` (the
``rsmq_schedule run`` code path)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed

from ...periodic import run_now, status
from .. import audit
from .base import AdminPage
from .message import when


class SchedulesView(AdminPage):
    template_name = "admin/django_rsmq/schedules.html"
    title = "RSMQ periodic messages"

    def crumbs(self, **ctx: Any) -> list[dict[str, str]]:
        return self.trail(("Periodic messages", ""))

    def get(self, request: HttpRequest) -> HttpResponse:
        rows = [
            {
                "s": s,
                "next": when(s.next_run * 1000),
                "last": when(s.last_run * 1000) if s.last_run is not None else None,
                "queue_url": self.url("queue", s.entry.queue),
                "run_url": self.url("schedule_run", s.entry.name),
            }
            for s in status()
        ]
        return self.render(request, rows=rows)


class RunScheduleView(AdminPage):
    """POST ``schedules/<name>/run/``: send the entry's message now."""

    needs = {"POST": ("send",)}

    def get(self, request: HttpRequest, name: str) -> HttpResponse:
        return HttpResponseNotAllowed(["POST"])

    def post(self, request: HttpRequest, name: str) -> HttpResponse:
        try:
            message_id = run_now(name)
        except LookupError as exc:
            raise Http404(str(exc)) from exc
        entry = next(s.entry for s in status() if s.entry.name == name)
        text = f"Sent {name} to {entry.queue} now as {message_id}."
        audit.record(request, action="run_schedule", queue=entry.queue, detail=text, kind="add")
        return self.done(request, text, self.url("schedules"))
