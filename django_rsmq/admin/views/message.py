"""One message: escaped, pretty-printed body and metadata; make visible now, and delete
or move to another queue through a confirm page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from ...conf import rsmq_settings
from ...engine import PeekedMessage
from ...operations import messages, queues, redrive
from .. import audit
from ..forms import MoveForm
from .base import AdminPage

ACTION_PERMISSIONS = {"delete": ("delete",), "visible": ("requeue",), "move": ("requeue",)}


def pretty(raw: str | bytes) -> str:
    """The body as text: JSON indented, anything else as stored (templates escape it)."""
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=True)
    except ValueError:
        return text


def preview(raw: str | bytes, length: int = 200) -> str:
    """The start of a body, as text."""
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    return text if len(text) <= length else text[:length] + "…"


def when(ms: float | int | None) -> datetime | None:
    return None if not ms else datetime.fromtimestamp(ms / 1000, tz=UTC)


def move_targets(queue: str) -> list[str]:
    """Other queues on the same connection as ``queue``."""
    alias = rsmq_settings().queue(queue).connection
    return [name for name, a in queues.known_queues() if a == alias and name != queue]


class MessageView(AdminPage):
    template_name = "admin/django_rsmq/message.html"

    def crumbs(self, **ctx: Any) -> list[dict[str, str]]:
        return self.trail((ctx["queue"], ctx["queue_url"]), (ctx["m"].id, ""))

    def get(self, request: HttpRequest, queue: str, message_id: str) -> HttpResponse:
        m = messages.get(queue, message_id)
        return self.render(request, **self.details(queue, m))

    def move_form(self, queue: str, data: Any = None) -> MoveForm:
        return MoveForm(data, queues=move_targets(queue))

    def details(self, queue: str, m: PeekedMessage) -> dict[str, Any]:
        size = len(m.raw.encode() if isinstance(m.raw, str) else m.raw)
        return {
            "title": f"Message {m.id}",
            "queue": queue,
            "m": m,
            "body": pretty(m.raw),
            "size": size,
            "sent_at": when(m.sent),
            "first_received_at": when(m.fr),
            "visible_at": when(m.visible_at),
            "dead_letter": messages.dead_letter_info(queue, m.id),
            "queue_url": self.url("queue", queue),
            "action_urls": {
                a: self.url("message_action", queue, m.id, a) for a in ACTION_PERMISSIONS
            },
        }


class MessageActionView(MessageView):
    """``visible`` (POST: at once; it destroys nothing), ``delete`` and ``move``: GET, or
    a POST without ``confirm``, shows the confirm page (``move`` with its target select,
    nothing preselected); a POST with ``confirm`` acts. Every change is audited."""

    http_method_names = ["get", "post"]
    confirm_template: ClassVar[str] = "admin/django_rsmq/confirm.html"

    def permissions(self, request: HttpRequest, **kwargs: Any) -> tuple[str, ...]:
        try:
            return ACTION_PERMISSIONS[kwargs["action"]]
        except KeyError:
            raise Http404(f"Unknown action {kwargs.get('action')!r}") from None

    def get(
        self, request: HttpRequest, queue: str, message_id: str, action: str = ""
    ) -> HttpResponse:
        if action == "visible":  # nothing to confirm: show the message
            return HttpResponseRedirect(self.url("message", queue, message_id))
        return self.confirm(request, queue, message_id, action, self.move_form(queue))

    def confirm(
        self, request: HttpRequest, queue: str, message_id: str, action: str, form: MoveForm
    ) -> HttpResponse:
        m = messages.get(queue, message_id)
        ctx = self.details(queue, m)
        if action == "delete":
            question = f"Delete message {m.id} from queue “{queue}”? This cannot be undone."
            extra = {"confirm_label": "Yes, delete the message", "danger": True}
        else:
            question = f"Move message {m.id} from queue “{queue}” to another queue?"
            extra = {"confirm_label": "Move the message", "danger": False, "form": form}
        ctx.update(
            title=f"{action.capitalize()} message {m.id}?",
            question=question,
            count=1,
            preview=preview(m.raw, 300),
            back_url=self.url("message", queue, m.id),
            **extra,
        )
        return TemplateResponse(request, self.confirm_template, self.context(request, **ctx))

    def crumbs(self, **ctx: Any) -> list[dict[str, str]]:
        if "question" not in ctx:
            return super().crumbs(**ctx)
        m_url = self.url("message", ctx["queue"], ctx["m"].id)
        return self.trail((ctx["queue"], ctx["queue_url"]), (ctx["m"].id, m_url), ("Confirm", ""))

    def post(self, request: HttpRequest, queue: str, message_id: str, action: str) -> HttpResponse:
        back = self.url("message", queue, message_id)
        if action == "visible":
            if messages.make_visible(queue, message_id):
                audit.record(
                    request, action="make_visible", queue=queue, detail=f"message {message_id}"
                )
                return self.done(request, f"Message {message_id} is visible now.", back)
            return self.done(request, "The message was already gone.", self.url("queue", queue))
        form = self.move_form(queue, request.POST if action == "move" else None)
        if not request.POST.get("confirm"):
            return self.confirm(request, queue, message_id, action, form)
        if action == "delete":
            deleted, _ = messages.delete(queue, [message_id])
            if not deleted:
                return self.done(request, "The message was already gone.", self.url("queue", queue))
            audit.record(
                request, action="delete", queue=queue, detail=f"message {message_id}", kind="delete"
            )
            return self.done(request, f"Deleted message {message_id}.", self.url("queue", queue))
        if not form.is_valid():
            flash.error(request, "Choose a queue to move the message to.")
            return self.confirm(request, queue, message_id, action, form)
        to = form.cleaned_data["to"]
        done = redrive.move(queue, [message_id], to, source="admin", user=request.user)
        if done.moved:
            audit.record(
                request, action="move", queue=queue, detail=f"message {message_id} to {to}"
            )
            return self.done(
                request, f"Moved message {message_id} to {to}.", self.url("message", to, message_id)
            )
        return self.done(
            request, "The message was already gone.", self.url("queue", queue), level=flash.WARNING
        )
