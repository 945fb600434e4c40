"""One page: the queues' counts and a form that sends a batch of demo messages."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from django_rsmq.operations import stats

from .sending import send_demo_batch


def _int(value: str | None, default: int, most: int = 1000) -> int:
    try:
        return max(0, min(most, int(value or default)))
    except ValueError:
        return default


@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        sent = send_demo_batch(
            orders=_int(request.POST.get("orders"), 20),
            notifications=_int(request.POST.get("notifications"), 5),
            reminders=_int(request.POST.get("reminders"), 2),
            first_order=_int(request.POST.get("first_order"), 1, most=10**9),
        )
        messages.success(
            request,
            f"Sent {sent.total} messages. Run `manage.py rsmq_consume` to handle them.",
        )
        return redirect("shop:index")
    return render(request, "shop/index.html", {"stats": stats.collect()})
