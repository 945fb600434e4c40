"""The admin's periodic-messages page (issue 15): every SCHEDULE entry with its next and
last run, and *Run now* (POST, the send permission, CSRF, audited)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client, override_settings

from django_rsmq.engine import RSMQ

pytestmark = pytest.mark.django_db

BASE = "/admin/django_rsmq/queue"
SCHEDULE = {
    "nightly": {"QUEUE": "other", "CRON": "0 3 * * *", "TZ": "Europe/Paris", "BODY": "<b>n</b>"},
    "beat": {"QUEUE": "other", "EVERY": 30},
}


@pytest.fixture
def scheduled(rsmq_on_test_redis: dict[str, Any]) -> Any:
    with override_settings(RSMQ={**rsmq_on_test_redis, "SCHEDULE": SCHEDULE}):
        yield


def test_the_page_lists_entries_and_runs_one_now(
    scheduled: None, client_for: Any, engine: RSMQ
) -> None:
    client: Client = client_for()
    page = client.get(f"{BASE}/schedules/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "0 3 * * * (Europe/Paris)" in html
    assert "every 30 s" in html
    assert html.count("<td>never</td>") == 2  # no run yet
    assert client.get(f"{BASE}/schedules/nightly/run/").status_code == 405
    r = client.post(f"{BASE}/schedules/nightly/run/", follow=True)
    (text,) = [str(m) for m in r.context["messages"]]
    assert text.startswith("Sent nightly to other now as ")
    msg = engine.receive("other")
    assert msg is not None
    assert msg.body == "<b>n</b>"
    assert text.endswith(f" as {msg.id}.")
    assert r.content.decode().count("<td>never</td>") == 1  # nightly has a last run now
    (entry,) = LogEntry.objects.all()
    assert entry.change_message.startswith("run_schedule: Sent nightly")
    assert client.post(f"{BASE}/schedules/nope/run/").status_code == 404


def test_run_now_needs_the_send_permission_and_csrf(
    scheduled: None, client_for: Any, engine: RSMQ
) -> None:
    viewer: Client = client_for("view_queue")
    assert b'value="Run now"' not in viewer.get(f"{BASE}/schedules/").content
    assert viewer.post(f"{BASE}/schedules/nightly/run/").status_code == 403
    strict: Client = client_for(csrf=True)
    assert strict.post(f"{BASE}/schedules/nightly/run/").status_code == 403
    assert engine.list_queues().count("other") == 0 or engine.receive("other") is None


def test_an_empty_schedule_says_so(client_for: Any) -> None:
    page = client_for().get(f"{BASE}/schedules/")
    assert b'RSMQ["SCHEDULE"]</code> is empty' in page.content
