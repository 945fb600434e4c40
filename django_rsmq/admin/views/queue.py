"""A queue: its attributes (and the form to change them; a declared queue warns that
``rsmq_queues sync`` undoes edits), a non-destructive message browser (peek, paged; never
receives) with a bounded search that continues where it stopped, and purge behind a
confirm page stating the count and cost, run in bounded chunks. Changes are audited."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from ...conf import rsmq_settings
from ...engine import QueueAttributes
from ...engine.protocol.base import OFFSET_MAX
from ...engine.validation import check_qname
from ...operations import messages, queues, redrive
from .. import audit
from ..forms import AttributesForm
from ..paginator import SEARCH_VAR, paginate
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
        before = queues.attributes(queue)
        after = queues.update_attributes(queue, **form.cleaned_data)
        changed = ", ".join(
            f"{k} {getattr(before, k)!r} -> {getattr(after, k)!r}"
            for k in form.cleaned_data
            if getattr(before, k) != getattr(after, k)
        )
        audit.record(request, action="attributes", queue=queue, detail=changed or "no change")
        return self.done(request, f"Saved the attributes of {queue}.", self.url("queue", queue))

    def page(self, request: HttpRequest, queue: str, form: AttributesForm) -> HttpResponse:
        attrs = queues.attributes(queue)
        text = request.GET.get(SEARCH_VAR, "").strip()
        found = self.search(request, queue, text) if text else None
        pager = None
        if found is None:
            pager = paginate(
                request,
                lambda offset, limit, search: messages.page(queue, offset=offset, limit=limit),
            )
        rows = [
            {
                "m": m,
                "url": self.url("message", queue, m.id),
                "sent": when(m.sent),
                "visible_at": when(m.visible_at),
                "preview": preview(m.raw, 120),
            }
            for m in (found.matches if found else pager.items if pager else [])
        ]
        dlq = dlq_of(queue)
        return self.render(
            request,
            title=f"Queue {queue}",
            queue=queue,
            attrs=attrs,
            form=form,
            pager=pager,
            search=text,
            found=found,
            continue_query=self.continue_query(text, found),
            declared_diff=self.declared_diff(queue, attrs),
            rows=rows,
            dead_letter_queue=dlq,
            dlq_url=self.url("dlq", queue) if dlq else "",
            failed_url=self.url("failed", queue),
            purge_url=self.url("queue_purge", queue),
            pause_url=self.url("queue_resume" if attrs.paused else "queue_pause", queue),
        )

    def search(self, request: HttpRequest, queue: str, text: str) -> messages.Search:
        try:
            start = max(0, min(OFFSET_MAX - 1, int(request.GET.get("from", "0"))))
        except ValueError:
            start = 0
        return messages.search(queue, text, start=start, limit=self.page_size())

    @staticmethod
    def page_size() -> int:
        return max(1, min(1000, int(rsmq_settings().admin.page_size)))

    @staticmethod
    def continue_query(text: str, found: messages.Search | None) -> str:
        if found is None or found.next_start is None:
            return ""
        return "?" + urlencode({SEARCH_VAR: text, "from": found.next_start})

    @staticmethod
    def declared_diff(queue: str, attrs: QueueAttributes) -> list[dict[str, object]]:
        return [
            {"name": k, "live": live, "declared": declared}
            for k, (live, declared) in queues.declared_differences(queue, attrs).items()
        ]


class ConfirmPage(AdminPage):
    """A confirm page (``confirm.html``): shows what will happen and how many; POSTs."""

    template_name = "admin/django_rsmq/confirm.html"

    def crumbs(self, **ctx: Any) -> list[dict[str, str]]:
        return self.trail((ctx["queue"], self.url("queue", ctx["queue"])), ("Confirm", ""))


class PurgeQueueView(ConfirmPage):
    """GET (or a POST without ``confirm``): the confirm page with the count and cost.
    POST with ``confirm``: purge in chunks of :data:`queues.PURGE_CHUNK` messages."""

    needs = {"GET": ("purge",), "POST": ("purge",)}

    def get(self, request: HttpRequest, queue: str) -> HttpResponse:
        count = messages.count(queue)
        cost = queues.purge_cost(count)
        return self.render(
            request,
            title=f"Purge queue {queue}?",
            queue=queue,
            count=count,
            question=f"Delete all {count:,} message(s) of queue “{queue}”? This cannot be undone.",
            cost=(
                f"Runs as {cost['calls']:,} Redis call(s) of at most {cost['chunk']} messages "
                "each, so other clients are never blocked for long. Messages sent meanwhile "
                "may be deleted too. If it is interrupted, purge again to finish."
            ),
            confirm_label="Yes, purge the queue",
            danger=True,
            back_url=self.url("queue", queue),
        )

    def post(self, request: HttpRequest, queue: str) -> HttpResponse:
        if not request.POST.get("confirm"):
            return self.get(request, queue)
        n = queues.purge(queue)
        audit.record(request, action="purge", queue=queue, detail=f"{n} message(s)", kind="delete")
        return self.done(
            request, f"Purged {queue}: {n} message(s) deleted.", self.url("queue", queue)
        )


class QueueLinkView(AdminPage):
    """``<admin>/django_rsmq/queue/<object_id>/change/``: where a ``LogEntry`` of the audit
    trail links ("Recent actions", the admin's log); redirects to the queue's page."""

    def get(self, request: HttpRequest, object_id: str) -> HttpResponse:
        name = check_qname(unquote(object_id))  # InvalidName: 404
        return HttpResponseRedirect(self.url("queue", name))
