"""The dead-letter queue and failed-records pages of a queue: paged, searchable,
admin-style actions (requeue / delete selected, each behind a confirm page except a DLQ
requeue), requeue all / purge all behind a confirm page. Failure records show what became
of their message (engine/triage.py), are grouped by exception type and filtered by type,
state and time; DLQ rows say where and why each message died. Every requeue goes through
:mod:`django_rsmq.operations.redrive` (the commands' code path); every change is
recorded with :func:`django_rsmq.admin.audit.record`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse, QueryDict

from ...engine import Page
from ...engine.triage import LABELS, STATES, RecordState, RequeuePlan
from ...operations import redrive
from .. import audit
from ..forms import ActionForm, selected_ids
from ..paginator import paginate
from .base import AdminPage
from .message import preview, when
from .queue import ConfirmPage

#: the failed list's time filter: ``?range=`` -> (label, seconds back)
RANGES = {"1h": ("Last hour", 3600), "24h": ("Last 24 hours", 86400), "7d": ("Last 7 days", 604800)}


@dataclass(frozen=True)
class Kind:
    """The DLQ or failed-records flavour of the page."""

    name: str  # URL segment: "dlq" | "failed"
    title: str
    noun: str
    count: Callable[[str], int]
    delete: Callable[[str, list[str]], redrive.Requeued]
    purge: Callable[[str], int]


KINDS = {
    "dlq": Kind(
        "dlq",
        "Dead-letter queue",
        "message",
        redrive.dlq_count,
        redrive.dlq_delete,
        redrive.dlq_purge,
    ),
    "failed": Kind(
        "failed",
        "Failed",
        "failure record",
        redrive.failed_count,
        redrive.failed_delete,
        redrive.failed_purge,
    ),
}


@dataclass(frozen=True)
class Filters:
    """The failed list's filters from the query string (unknown values are ignored)."""

    exc_type: str = ""
    state: str = ""
    range: str = ""
    message: str = ""

    @classmethod
    def of(cls, query: QueryDict) -> Filters:
        state = query.get("state", "")
        span = query.get("range", "")
        message = query.get("message", "")
        return cls(
            exc_type=query.get("type", "")[:200],
            state=state if state in STATES else "",
            range=span if span in RANGES else "",
            message=message if len(message) == 32 and message.isalnum() else "",
        )

    @property
    def since(self) -> int | None:
        if not self.range:
            return None
        return int((time.time() - RANGES[self.range][1]) * 1000)

    def params(self) -> dict[str, str]:
        return {
            "type": self.exc_type,
            "state": self.state,
            "range": self.range,
            "message": self.message,
        }

    def link(self, search: str, **change: str) -> str:
        """The list's query string with ``change`` applied (page 1)."""
        params = {**self.params(), "q": search, **change}
        q = QueryDict(mutable=True)
        for k, v in params.items():
            if v:
                q[k] = v
        text = q.urlencode()
        return f"?{text}" if text else "?"


def failed_page(
    queue: str, offset: int, limit: int, search: str, f: Filters
) -> Page[tuple[Any, RecordState]]:
    """A page of records with their messages' states. Without a state filter one listing
    call and one state call; with one, every record matching the other filters is read
    (in bounded calls, at most the queue's failed_cap) and filtered by state."""
    kwargs: dict[str, Any] = {
        "exc_type": f.exc_type or None,
        "search": search or None,
        "message_id": f.message or None,
        "since": f.since,
    }
    if not f.state:
        page = redrive.failed_list(queue, offset=offset, limit=limit, **kwargs)
        states = redrive.failed_states(queue, page.items)
        return Page([(r, states[r.message_id]) for r in page.items], page.total)
    records = redrive.failed_records(queue, **kwargs)
    states = redrive.failed_states(queue, records)
    matching = [(r, states[r.message_id]) for r in records if states[r.message_id].state == f.state]
    return Page(matching[offset : offset + limit], len(matching))


def _query(request: HttpRequest) -> str:
    """The list's query string without its page number (the page may not exist any more
    after a change: the list starts again at page 1)."""
    q = request.GET.copy()
    q.pop("p", None)
    text = q.urlencode()
    return f"?{text}" if text else ""


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
        if self.kind_name == "dlq":
            return self.dlq(request, queue)
        return self.failed(request, queue)

    def common(self, request: HttpRequest, queue: str) -> dict[str, Any]:
        return {
            "queue": queue,
            "kind": self.kind,
            "action_form": ActionForm(),
            "queue_url": self.url("queue", queue),
            "requeue_all_url": self.url("records_all", queue, self.kind_name, "requeue"),
            "purge_all_url": self.url("records_all", queue, self.kind_name, "purge"),
        }

    def dlq(self, request: HttpRequest, queue: str) -> HttpResponse:
        dlq = redrive.dead_letter_queue_of(queue)
        pager = paginate(
            request,
            lambda offset, limit, search: redrive.dlq_page(
                queue, offset=offset, limit=limit, search=search or None
            ),
        )
        infos = redrive.dlq_infos(queue, [m.id for m in pager.items])
        rows = []
        for m in pager.items:
            info = infos.get(m.id)
            rows.append(
                {
                    "id": m.id,
                    "url": self.url("message", dlq, m.id),
                    "info": info,
                    "source_url": self.url("queue", info.queue) if info and info.queue else "",
                    "dead_lettered_at": when(info.dead_lettered_at if info else m.sent),
                    # the receives before it died: the DLQ copy starts afresh (its own
                    # rc counts only peeks-free receives from the DLQ, usually 0)
                    "rc": info.rc if info else m.rc,
                    "preview": preview(m.raw),
                }
            )
        return self.render(
            request,
            title=f"{self.kind.title}: {queue} ({dlq})",
            dead_letter_queue=dlq,
            pager=pager,
            rows=rows,
            **self.common(request, queue),
        )

    def failed(self, request: HttpRequest, queue: str) -> HttpResponse:
        f = Filters.of(request.GET)
        pager = paginate(
            request,
            lambda offset, limit, search: failed_page(queue, offset, limit, search, f),
            keep=f.params(),
        )
        dlq = _dlq_of(queue)
        rows = [self.failed_row(queue, dlq, rec, state) for rec, state in pager.items]
        search = pager.search
        groups = redrive.failed_groups(queue, search=search or None, since=f.since)
        return self.render(
            request,
            title=f"{self.kind.title}: {queue}",
            pager=pager,
            rows=rows,
            filters=f,
            filter_active=any(f.params().values()),
            clear_url=f.link(search, type="", state="", range="", message=""),
            groups=[
                {"type": t, "count": n, "url": f.link(search, type=t), "current": t == f.exc_type}
                for t, n in groups.items()
            ],
            all_types_url=f.link(search, type=""),
            states=[
                {"label": LABELS[s], "url": f.link(search, state=s), "current": s == f.state}
                for s in STATES
            ],
            all_states_url=f.link(search, state=""),
            ranges=[
                {"label": label, "url": f.link(search, range=key), "current": key == f.range}
                for key, (label, _) in RANGES.items()
            ],
            all_time_url=f.link(search, range=""),
            **self.common(request, queue),
        )

    def failed_row(
        self, queue: str, dlq: str | None, rec: Any, state: RecordState
    ) -> dict[str, Any]:
        return {
            "id": rec.id,
            "url": self.url("failed_record", queue, rec.id),
            "message_id": rec.message_id,
            "message_url": message_link(self, queue, dlq, rec.message_id, state),
            "state": state,
            "at": when(rec.failed_at),
            "rc": rec.rc,
            "preview": preview(rec.raw, 120),
            "exc_type": rec.exc_type,
            "error": rec.error,
            "dead_lettered": rec.dead_lettered,
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
        action = form.cleaned_data["action"]
        confirmed = request.POST.get("post") == "yes"
        if action == "requeue_selected" and self.kind_name == "dlq":
            done = redrive.dlq_requeue(queue, ids=ids, source="admin", user=request.user)
            text = done.describe("Requeued")
            audit.record(request, action="requeue", queue=queue, detail=f"DLQ: {text}")
            return self.done(request, text, back)
        if not confirmed:
            return self.confirm(request, queue, action, ids, back)
        if action == "requeue_selected":
            done = redrive.failed_requeue(queue, ids=ids, source="admin", user=request.user)
            text = done.describe("Requeued")
            audit.record(request, action="requeue", queue=queue, detail=f"failure records: {text}")
            return self.done(request, text, back)
        done = self.kind.delete(queue, ids)
        text = done.describe("Deleted")
        where = "DLQ" if self.kind_name == "dlq" else "failure records"
        audit.record(
            request, action="delete", queue=queue, detail=f"{where}: {text}", kind="delete"
        )
        return self.done(request, text, back)

    def confirm(
        self, request: HttpRequest, queue: str, action: str, ids: list[str], back: str
    ) -> HttpResponse:
        """The intermediate page of "Delete selected" (and of "Requeue selected" on
        failure records: how many will be sent, how many skipped and why)."""
        noun = self.kind.noun
        ctx: dict[str, Any] = {
            "queue": queue,
            "ids": ids,
            "action": action,
            "back_url": back,
            "count": len(ids),
        }
        if action == "delete_selected":
            where = "dead-letter queue" if self.kind_name == "dlq" else "failure records"
            ctx |= {
                "title": f"Delete {len(ids)} {noun}(s)?",
                "question": f"Delete the {len(ids)} selected {noun}(s) from the {where} of "
                f"“{queue}”? This cannot be undone.",
                "confirm_label": f"Yes, delete {len(ids)}",
                "danger": True,
            }
        else:
            plan = redrive.failed_plan(queue, ids)
            ctx |= requeue_context(queue, plan, len(ids))
        return RecordsConfirm(model_admin=self.model_admin).render(request, **ctx)


class RecordsConfirm(ConfirmPage):
    """The confirm page of the records' actions (sent / skipped counts, danger styling)."""

    template_name = "admin/django_rsmq/records_confirm.html"


def requeue_context(queue: str, plan: RequeuePlan, records: int) -> dict[str, Any]:
    n = len(plan.send)
    return {
        "title": f"Requeue {n} message(s) from failure records?",
        "question": f"Send {n} message(s) to “{queue}” again, from {records} failure record(s)?",
        "send_count": n,
        "skipped_count": plan.skipped_count,
        "reasons": plan.reasons(),
        "confirm_label": f"Yes, send {n}",
        "nothing": n == 0,
        "danger": False,
    }


def _dlq_of(queue: str) -> str | None:
    try:
        return redrive.dead_letter_queue_of(queue)
    except redrive.DeadLetterQueueMissing:
        return None


def message_link(page: AdminPage, queue: str, dlq: str | None, mid: str, state: RecordState) -> str:
    """Where a record's message id leads: the message where it is now, else the list of
    every record of that message."""
    if state.pending:
        return page.url("message", queue, mid)
    if state.state == "dead_lettered" and dlq:
        return page.url("message", dlq, mid)
    if state.state == "requeued" and state.detail:
        return page.url("message", queue, state.detail)
    return page.url("failed", queue, query=Filters(message=mid).link("")) if mid else ""


class RecordsAllView(ConfirmPage):
    """Requeue all / purge all: GET shows the confirm page with the count (and, for
    failure records, what is sent and skipped), POST does it in bounded chunks."""

    template_name = "admin/django_rsmq/records_confirm.html"
    OPS = {"requeue": "requeue", "purge": "purge"}  # op -> permission

    def permissions(self, request: HttpRequest, **kwargs: Any) -> tuple[str, ...]:
        op = kwargs.get("op", "")
        if op not in self.OPS or kwargs.get("kind") not in KINDS:
            raise Http404(f"Unknown operation {op!r}")
        return (self.OPS[op],)

    def get(self, request: HttpRequest, queue: str, kind: str, op: str) -> HttpResponse:
        k = KINDS[kind]
        count = k.count(queue)
        where = "dead-letter queue" if kind == "dlq" else "failed records"
        chunks = max(1, -(-count // redrive.PURGE_CHUNK))
        cost = f"Runs as {chunks} Redis call(s) of at most {redrive.PURGE_CHUNK} {k.noun}s each."
        ctx: dict[str, Any] = {"queue": queue, "count": count, "back_url": self.url(kind, queue)}
        if op == "requeue" and kind == "failed":
            ctx |= requeue_context(queue, redrive.failed_plan(queue), count)
        elif op == "requeue":
            ctx |= {
                "title": f"Requeue all of the {where} of {queue}?",
                "question": f"Requeue all {count} {k.noun}(s) in the {where} of “{queue}”?",
                "confirm_label": "Yes, requeue all",
                "cost": cost,
                "danger": False,
            }
        else:
            ctx |= {
                "title": f"Delete all of the {where} of {queue}?",
                "question": f"Delete all {count} {k.noun}(s) in the {where} of “{queue}”? "
                "This cannot be undone.",
                "confirm_label": "Yes, delete all",
                "cost": cost if kind == "dlq" else "",
                "danger": True,
            }
        return self.render(request, **ctx)

    def post(self, request: HttpRequest, queue: str, kind: str, op: str) -> HttpResponse:
        k = KINDS[kind]
        where = "DLQ" if kind == "dlq" else "failure records"
        if op == "requeue":
            if kind == "dlq":
                done = redrive.dlq_requeue(queue, source="admin", user=request.user)
            else:
                done = redrive.failed_requeue(queue, source="admin", user=request.user)
            text = done.describe("Requeued")
            audit.record(request, action="requeue_all", queue=queue, detail=f"{where}: {text}")
        else:
            text = f"Purged {k.purge(queue)}"
            audit.record(
                request, action="purge_all", queue=queue, detail=f"{where}: {text}", kind="delete"
            )
        return self.done(request, text, self.url(kind, queue))
