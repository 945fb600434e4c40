"""One failure record, at its permalink: the full traceback (escaped, readable), the
body, what became of the message, and every attempt of that message (all its records)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from ...engine.errors import InvalidValue
from ...operations import redrive
from ..forms import ActionForm
from .base import AdminPage
from .message import pretty, when
from .records import _dlq_of, message_link

#: at most this many attempts of one message are listed (the newest)
ATTEMPTS_MAX = 100


class RecordView(AdminPage):
    template_name = "admin/django_rsmq/record.html"

    def crumbs(self, **ctx: Any) -> list[dict[str, str]]:
        return self.trail(
            (ctx["queue"], ctx["queue_url"]), ("Failed", ctx["failed_url"]), (ctx["rec"].id, "")
        )

    def get(self, request: HttpRequest, queue: str, record_id: str) -> HttpResponse:
        rec = redrive.failed_record(queue, record_id)  # MessageNotFound: a 404
        state = redrive.failed_states(queue, [rec])[rec.message_id]
        dlq = _dlq_of(queue)
        attempts = []
        if rec.message_id:
            try:
                page = redrive.failed_list(queue, message_id=rec.message_id, limit=ATTEMPTS_MAX)
                attempts, total = page.items, page.total
            except InvalidValue:  # a poison record's message id is not an RSMQ id
                attempts, total = [rec], 1
        else:
            attempts, total = [rec], 1
        return self.render(
            request,
            title=f"Failure record {rec.id}",
            queue=queue,
            rec=rec,
            state=state,
            failed_at=when(rec.failed_at),
            acked_at=when(state.acked_at),
            body=pretty(rec.raw),
            message_url=message_link(self, queue, dlq, rec.message_id, state),
            attempts=[
                {
                    "r": a,
                    "at": when(a.failed_at),
                    "url": self.url("failed_record", queue, a.id),
                    "current": a.id == rec.id,
                }
                for a in sorted(attempts, key=lambda a: (a.failed_at, a.id))
            ],
            attempts_total=total,
            action_form=ActionForm(),
            queue_url=self.url("queue", queue),
            failed_url=self.url("failed", queue),
            list_action_url=self.url("failed", queue),
        )
