"""The dead-letter queue and failed-records pages of a queue: paged, searchable,
admin-style actions (requeue / delete selected), requeue all / purge all behind a
confirm page. Every requeue goes through :mod:`django_rsmq.operations.redrive` (the commands'
code path); this module only picks the DLQ or the failed-records variant."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse

from ...engine import Page
from ...operations import redrive
from ..forms import ActionForm, selected_ids
from ..paginator import paginate
from .base import AdminPage
from .message import pretty, preview, when
from .queue import ConfirmPage


@dataclass(frozen=True)
class Kind:
    """The DLQ or failed-records flavour of the page."""

    name: str  # URL segment: "dlq" | "failed"
    title: str
    noun: str
    page: Callable[..., Page[Any]]
    count: Callable[[str], int]
    requeue: Callable[..., redrive.Requeued]
    delete: Callable[[str, list[str]], redrive.Requeued]
    purge: Callable[[str], int]


KINDS = {
    "dlq": Kind(
        "dlq",
        "Dead-letter queue",
        "message",
        redrive.dlq_page,
        redrive.dlq_count,
        redrive.dlq_requeue,
        redrive.dlq_delete,
        redrive.dlq_purge,
    ),
    "failed": Kind(
        "failed",
        "Failed",
        "failure record",
        redrive.failed_list,
        redrive.failed_count,
        redrive.failed_requeue,
        redrive.failed_delete,
        redrive.failed_purge,
    ),
}


def requeue(kind: Kind, request: HttpRequest, queue: str, ids: list[str] | None) -> str:
    """The admin's one requeue call (selected ids, or all with ``None``); returns the
    outcome text ("Requeued 42, 3 were already gone"). Dead letters start with a fresh
    receive count (the redrive default)."""
    done = kind.requeue(queue, ids=ids, source="admin", user=request.user)
    return done.describe("Requeued")


class RecordsView(AdminPage):
    template_name = "admin/django_rsmq/records.html"
    kind_name = ""

    def crumbs(self, **ctx: Any) -> list[dict[str, str]]:
        return self.trail((ctx["queue"], ctx["queue_url"]), (ctx["kind"].title, ""))

    @property
    def kind(self) -> Kind:
        return KINDS[self.kind_name]

    def permissions(self, request: HttpRequest, **kwargs: Any) -> tuple[str, ...]:
        if request.method != "POST":
            return ()
        action = request.POST.get("action", "")
        return {"requeue_selected": ("requeue",), "delete_selected": ("delete",)}.get(action, ())

    def get(self, request: HttpRequest, queue: str) -> HttpResponse:
        pager = paginate(
            request,
            lambda offset, limit, search: self.kind.page(
                queue, offset=offset, limit=limit, search=search or None
            ),
        )
        dlq = redrive.dead_letter_queue_of(queue) if self.kind_name == "dlq" else None
        rows = [self.row(queue, dlq, item) for item in pager.items]
        return self.render(
            request,
            title=f"{self.kind.title}: {queue}" + (f" ({dlq})" if dlq else ""),
            queue=queue,
            kind=self.kind,
            dead_letter_queue=dlq,
            pager=pager,
            rows=rows,
            action_form=ActionForm(),
            queue_url=self.url("queue", queue),
            requeue_all_url=self.url("records_all", queue, self.kind_name, "requeue"),
            purge_all_url=self.url("records_all", queue, self.kind_name, "purge"),
        )

    def row(self, queue: str, dlq: str | None, item: Any) -> dict[str, Any]:
        if dlq is not None:
            return {
                "id": item.id,
                "url": self.url("message", dlq, item.id),
                "at": when(item.sent),
                "rc": item.rc,
                "preview": preview(item.raw),
            }
        return {
            "id": item.id,
            "message_id": item.message_id,
            "at": when(item.failed_at),
            "rc": item.rc,
            "preview": preview(item.raw),
            "body": pretty(item.raw),
            "exc_type": item.exc_type,
            "error": item.error,
            "traceback": item.traceback,
            "dead_lettered": item.dead_lettered,
        }

    def post(self, request: HttpRequest, queue: str) -> HttpResponse:
        back = self.url(self.kind_name, queue, query=_query(request))
        form = ActionForm(request.POST)
        ids = selected_ids(request.POST)
        if not form.is_valid():
            return self.done(request, "Choose an action.", back, level=flash.WARNING)
        if not ids:
            return self.done(
                request,
                "Items must be selected in order to perform actions on them. "
                "No items have been changed.",
                back,
                level=flash.WARNING,
            )
        if form.cleaned_data["action"] == "requeue_selected":
            return self.done(request, requeue(self.kind, request, queue, ids), back)
        done = self.kind.delete(queue, ids)
        return self.done(request, done.describe("Deleted"), back)


def _query(request: HttpRequest) -> str:
    q = request.GET.urlencode()
    return f"?{q}" if q else ""


class RecordsAllView(ConfirmPage):
    """Requeue all / purge all: GET shows the confirm page with the count, POST does it."""

    OPS = {"requeue": "requeue", "purge": "purge"}  # op -> permission

    def permissions(self, request: HttpRequest, **kwargs: Any) -> tuple[str, ...]:
        op = kwargs.get("op", "")
        if op not in self.OPS or kwargs.get("kind") not in KINDS:
            raise Http404(f"Unknown operation {op!r}")
        return (self.OPS[op],)

    def get(self, request: HttpRequest, queue: str, kind: str, op: str) -> HttpResponse:
        k = KINDS[kind]
        count = k.count(queue)
        verb = "Requeue" if op == "requeue" else "Delete"
        where = "dead-letter queue" if kind == "dlq" else "failed records"
        return self.render(
            request,
            title=f"{verb} all of the {where} of {queue}?",
            queue=queue,
            count=count,
            question=f"{verb} all {count} {k.noun}(s) in the {where} of “{queue}”?",
            confirm_label=f"Yes, {verb.lower()} all",
            back_url=self.url(kind, queue),
        )

    def post(self, request: HttpRequest, queue: str, kind: str, op: str) -> HttpResponse:
        k = KINDS[kind]
        text = requeue(k, request, queue, None) if op == "requeue" else f"Purged {k.purge(queue)}"
        return self.done(request, text, self.url(kind, queue))
