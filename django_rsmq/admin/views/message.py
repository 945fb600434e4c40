"""One message: escaped, pretty-printed body and metadata; delete, make visible now,
move to another queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse

from ...conf import rsmq_settings
from ...engine import PeekedMessage
from ...operations import messages, queues, redrive
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
        return self.render(request, **self.details(queue, m), move_form=self.move_form(queue))

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
    """POST ``delete`` | ``visible`` | ``move`` (with ``to``)."""

    http_method_names = ["post"]

    def permissions(self, request: HttpRequest, **kwargs: Any) -> tuple[str, ...]:
        try:
            return ACTION_PERMISSIONS[kwargs["action"]]
        except KeyError:
            raise Http404(f"Unknown action {kwargs.get('action')!r}") from None

    def post(self, request: HttpRequest, queue: str, message_id: str, action: str) -> HttpResponse:
        back = self.url("message", queue, message_id)
        if action == "delete":
            deleted, _ = messages.delete(queue, [message_id])
            text = f"Deleted message {message_id}." if deleted else "The message was already gone."
            return self.done(request, text, self.url("queue", queue))
        if action == "visible":
            if messages.make_visible(queue, message_id):
                return self.done(request, f"Message {message_id} is visible now.", back)
            return self.done(request, "The message was already gone.", self.url("queue", queue))
        form = self.move_form(queue, request.POST)
        if not form.is_valid():
            m = messages.get(queue, message_id)
            flash.error(request, "Choose a queue to move the message to.")
            return self.render(request, **self.details(queue, m), move_form=form)
        to = form.cleaned_data["to"]
        done = redrive.move(queue, [message_id], to, source="admin", user=request.user)
        if done.moved:
            return self.done(
                request, f"Moved message {message_id} to {to}.", self.url("message", to, message_id)
            )
        return self.done(
            request, "The message was already gone.", self.url("queue", queue), level=flash.WARNING
        )
