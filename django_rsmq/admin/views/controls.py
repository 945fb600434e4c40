"""Queue controls: pause and resume a queue (POST only, the ``change`` permission, CSRF
by Django's middleware, audited). Neither loses anything, so neither has a confirm page:
a paused queue keeps taking sends and delivers them after resume (docs/admin.md)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

from ...operations import queues
from .. import audit
from .base import AdminPage


class PauseQueueView(AdminPage):
    """POST ``q/<queue>/pause/`` or ``q/<queue>/resume/`` (``resume`` from the URL)."""

    needs = {"POST": ("change",)}
    resume = False

    def get(self, request: HttpRequest, queue: str) -> HttpResponse:
        return HttpResponseNotAllowed(["POST"])

    def post(self, request: HttpRequest, queue: str) -> HttpResponse:
        if self.resume:
            changed = queues.resume(queue)
            text = f"Resumed {queue}: consumers receive from it again."
            if not changed:
                text = f"{queue} was not paused."
        else:
            changed = queues.pause(queue)
            text = f"Paused {queue}: consumers receive nothing from it until it is resumed."
            if not changed:
                text = f"{queue} was paused already."
        if changed:
            action = "resume" if self.resume else "pause"
            audit.record(request, action=action, queue=queue, detail=text)
        return self.done(request, text, self.url("queue", queue))
