"""Pause / resume from the queue page (issues 15 and 16): POST only, the change
permission, CSRF, an audit entry; the page says the queue is paused; tiles are human."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from django_rsmq.engine import RSMQ

pytestmark = pytest.mark.django_db

BASE = "/admin/django_rsmq/queue"


def test_pause_and_resume_from_the_queue_page(client_for: Any, engine: RSMQ) -> None:
    client: Client = client_for()
    for i in range(1234):
        if i % 100 == 0:
            engine.send_many("other", [str(j) for j in range(min(100, 1234 - i))])
    page = client.get(f"{BASE}/q/other/")
    assert b"Pause the queue" in page.content
    assert b"1,234" in page.content  # thousands separators on the tiles
    assert client.get(f"{BASE}/q/other/pause/").status_code == 405  # POST only
    r = client.post(f"{BASE}/q/other/pause/", follow=True)
    assert [str(m) for m in r.context["messages"]] == [
        "Paused other: consumers receive nothing from it until it is resumed."
    ]
    assert engine.get_queue_attributes("other").paused
    assert engine.receive("other") is None
    assert b'id="paused-note"' in r.content
    assert b"Resume the queue" in r.content
    r = client.post(f"{BASE}/q/other/resume/", follow=True)
    assert not engine.get_queue_attributes("other").paused
    assert engine.receive("other") is not None
    actions = [e.change_message for e in LogEntry.objects.order_by("action_time")]
    assert [a.split(":")[0] for a in actions] == ["pause", "resume"]


def test_pausing_needs_the_change_permission_and_csrf(client_for: Any, engine: RSMQ) -> None:
    engine.send("other", "x")
    viewer: Client = client_for("view_queue")
    assert viewer.post(f"{BASE}/q/other/pause/").status_code == 403
    assert b"Pause the queue" not in viewer.get(f"{BASE}/q/other/").content
    strict: Client = client_for(csrf=True)
    assert strict.post(f"{BASE}/q/other/pause/").status_code == 403  # no CSRF token
    assert not engine.get_queue_attributes("other").paused


def test_the_queue_page_and_the_dashboard_show_the_concurrency_cap(
    client_for: Any, engine: RSMQ
) -> None:
    engine.set_queue_attributes("other", max_in_flight=3)
    engine.send("other", "x")
    assert engine.receive("other") is not None
    client: Client = client_for()
    page = client.get(f"{BASE}/q/other/")
    assert b"At most 3 in flight (1 now, all consumers together)." in page.content
    assert b"max 3 in flight" in client.get(f"{BASE}/").content
