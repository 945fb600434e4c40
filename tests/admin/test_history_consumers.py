"""The consumers page: stale rows keep host/pid/queues; "forget stale consumers" is a
POST behind a confirm page, needs the delete permission, and is audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.test import Client

from django_rsmq import signals
from django_rsmq.engine import RSMQ
from django_rsmq.engine.registry import ConsumerRegistry

pytestmark = pytest.mark.django_db

BASE = "/admin/django_rsmq/queue"
FIELDS = {"host": "web-7", "pid": 4711, "queues": ["emails", "other"], "started": 1.7e9}


def _two(engine: RSMQ) -> ConsumerRegistry:
    registry = ConsumerRegistry(engine.client, engine.namespace)
    registry.beat("alive-one", {**FIELDS, "processed": 12345}, ttl=30)
    registry.beat("dead-one", FIELDS, ttl=30)
    engine.client.delete(registry.keys.consumer("dead-one"))  # its record expired
    return registry


def test_a_stale_row_keeps_host_pid_and_queues(
    client_for: Callable[..., Client], engine: RSMQ
) -> None:
    registry = _two(engine)
    (dead,) = [c for c in registry.list() if not c.alive]
    assert (dead.host, dead.pid, dead.queues) == ("web-7", 4711, ("emails", "other"))
    assert dead.started == 1.7e9
    html = client_for().get(f"{BASE}/consumers/").content.decode()
    row = html[html.index('data-consumer="dead-one"') :]
    row = row[: row.index("</tr>")]
    assert "web-7" in row
    assert "4711" in row
    assert "emails, other" in row
    assert "12,345" in html  # thousands separators
    assert " ago)" in html
    assert "Forget 1 stale consumer" in html


def test_forget_stale_consumers_confirms_then_forgets_and_audits(
    client_for: Callable[..., Client], engine: RSMQ
) -> None:
    registry = _two(engine)
    client = client_for(csrf=True)
    page = client.get(f"{BASE}/consumers/forget-stale/")
    assert page.status_code == 200
    assert page.context["count"] == 1
    assert b"Yes, forget them" in page.content
    assert sorted(c.name for c in registry.list()) == ["alive-one", "dead-one"]
    assert client.post(f"{BASE}/consumers/forget-stale/").status_code == 403  # no CSRF token
    sent: list[dict[str, object]] = []

    def receiver(**kw: object) -> None:
        sent.append(kw)

    signals.admin_action.connect(receiver)
    try:
        token = client.cookies["csrftoken"].value
        r = client.post(f"{BASE}/consumers/forget-stale/", {"csrfmiddlewaretoken": token})
    finally:
        signals.admin_action.disconnect(receiver)
    assert r.status_code == 302
    assert [c.name for c in registry.list()] == ["alive-one"]
    assert not engine.client.hexists(registry.keys.consumers_static, "dead-one")
    entry = LogEntry.objects.latest("action_time")
    assert entry.action_flag == DELETION
    assert entry.change_message == "forget_stale_consumers: forgot 1 stale consumer(s)"
    assert sent[0]["action"] == "forget_stale_consumers"


def test_forget_needs_the_delete_permission(
    client_for: Callable[..., Client], engine: RSMQ
) -> None:
    registry = _two(engine)
    viewer = client_for("view_queue")
    assert viewer.get(f"{BASE}/consumers/forget-stale/").status_code == 403
    assert viewer.post(f"{BASE}/consumers/forget-stale/").status_code == 403
    assert "Forget 1 stale" not in viewer.get(f"{BASE}/consumers/").content.decode()
    assert len(registry.list()) == 2


def test_a_consumer_that_beats_again_is_not_forgotten(engine: RSMQ) -> None:
    registry = _two(engine)
    registry.beat("dead-one", FIELDS, ttl=30)  # it came back after the listing
    assert registry.forget_stale(["dead-one"]) == 0
    assert len(registry.list()) == 2
    registry.remove("dead-one")
    assert not engine.client.hexists(registry.keys.consumers_static, "dead-one")
