"""A queue: its attributes (and the form to change them), a non-destructive message
browser (peek, paged, searchable; never receives), and purge behind a confirm page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from ...operations import messages, queues, redrive
from ..forms import AttributesForm
from ..paginator import paginate
from .base import AdminPage
from .message import preview, when


def dlq_of(queue: str) -> str | None:
    try:
        return redrive.dead_letter_queue_of(queue)
    except redrive.DeadLetterQueueMissing:
        return None


class QueueView(AdminPage):
    template_name = "admin/django_rsmq/queue.html"
    needs = {"POST": ("change",)}

    def crumbs(self, **ctx: Any) -> list[dict[str, str]]:
        return self.trail((ctx["queue"], ""))

    def get(self, request: HttpRequest, queue: str) -> HttpResponse:
        attrs = queues.attributes(queue)
        form = AttributesForm(
            initial={"vt": int(attrs.vt), "delay": int(attrs.delay), "maxsize": attrs.maxsize}
        )
        return self.page(request, queue, form)

    def post(self, request: HttpRequest, queue: str) -> HttpResponse:
        queues.attributes(queue)  # 404 for an unknown queue before validating
        form = AttributesForm(request.POST)
        if not form.is_valid():
            return self.page(request, queue, form)
        queues.update_attributes(queue, **form.cleaned_data)
        return self.done(request, f"Saved the attributes of {queue}.", self.url("queue", queue))

    def page(self, request: HttpRequest, queue: str, form: AttributesForm) -> HttpResponse:
        attrs = queues.attributes(queue)
        pager = paginate(
            request,
            lambda offset, limit, search: messages.page(
                queue, offset=offset, limit=limit, search=search
            ),
        )
        rows = [
            {
                "m": m,
                "url": self.url("message", queue, m.id),
                "sent": when(m.sent),
                "visible_at": when(m.visible_at),
                "preview": preview(m.raw, 120),
            }
            for m in pager.items
        ]
        dlq = dlq_of(queue)
        return self.render(
            request,
            title=f"Queue {queue}",
            queue=queue,
            attrs=attrs,
            form=form,
            pager=pager,
            rows=rows,
            dead_letter_queue=dlq,
            dlq_url=self.url("dlq", queue) if dlq else "",
            failed_url=self.url("failed", queue),
            purge_url=self.url("queue_purge", queue),
        )


class ConfirmPage(AdminPage):
    """A confirm page (``confirm.html``): shows what will happen and how many; POSTs."""

    template_name = "admin/django_rsmq/confirm.html"

    def crumbs(self, **ctx: Any) -> list[dict[str, str]]:
        return self.trail((ctx["queue"], self.url("queue", ctx["queue"])), ("Confirm", ""))


class PurgeQueueView(ConfirmPage):
    """GET: the confirm page with the count. POST: purge."""

    needs = {"GET": ("purge",), "POST": ("purge",)}

    def get(self, request: HttpRequest, queue: str) -> HttpResponse:
        count = messages.count(queue)
        return self.render(
            request,
            title=f"Purge queue {queue}?",
            queue=queue,
            count=count,
            question=f"Delete all {count} message(s) of queue “{queue}”? This cannot be undone.",
            confirm_label="Yes, purge the queue",
            back_url=self.url("queue", queue),
        )

    def post(self, request: HttpRequest, queue: str) -> HttpResponse:
        n = queues.purge(queue)
        return self.done(
            request, f"Purged {queue}: {n} message(s) deleted.", self.url("queue", queue)
        )
