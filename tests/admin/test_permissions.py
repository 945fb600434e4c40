"""Each permission is enforced by the views themselves (not only by hidden buttons),
the custom PERMISSION_CHECK hook, and CSRF on every mutating action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, override_settings

from django_rsmq.engine import RSMQ
from tests.admin.conftest import ALL, dead_letter, failed_record

pytestmark = pytest.mark.django_db

BASE = "/admin/django_rsmq/queue"
ClientFor = Callable[..., Client]


def without(perm: str) -> tuple[str, ...]:
    return tuple(p for p in ALL if p != perm)


def test_anonymous_is_sent_to_the_login_page(engine: RSMQ) -> None:
    r = Client().get(f"{BASE}/q/emails/")
    assert r.status_code == 302
    assert "/admin/login/" in r["Location"]


def test_non_staff_user_is_not_let_in(client_for: ClientFor) -> None:
    client = client_for(*ALL, staff=False)
    r = client.get(f"{BASE}/")
    assert r.status_code == 302
    assert "/admin/login/" in r["Location"]


@pytest.mark.parametrize(
    "url",
    ["/", "/consumers/", "/q/emails/", "/q/emails/dlq/", "/q/other/failed/"],
)
def test_view_permission_is_needed_for_every_page(client_for: ClientFor, url: str) -> None:
    client = client_for(*without("view_queue"))
    assert client.get(f"{BASE}{url}").status_code == 403


def test_index_hides_the_section_without_view_permission(client_for: ClientFor) -> None:
    assert b"django_rsmq/queue" not in client_for("requeue_message").get("/admin/").content
    assert b"django_rsmq/queue" in client_for("view_queue").get("/admin/").content


def test_requeue_permission(client_for: ClientFor, engine: RSMQ) -> None:
    client = client_for(*without("requeue_message"))
    mid = dead_letter(engine, "x")
    page = client.get(f"{BASE}/q/emails/dlq/")
    assert b"Requeue all" not in page.content  # hidden...
    data = {"action": "requeue_selected", "_selected_action": [mid]}
    assert client.post(f"{BASE}/q/emails/dlq/", data).status_code == 403  # ...and enforced
    assert client.get(f"{BASE}/q/emails/dlq/all/requeue/").status_code == 403
    assert client.post(f"{BASE}/q/emails/dlq/all/requeue/").status_code == 403
    other = engine.send("other", "y", delay=600)
    assert client.post(f"{BASE}/q/other/messages/{other}/visible/").status_code == 403
    move = client.post(f"{BASE}/q/other/messages/{other}/move/", {"to": "emails"})
    assert move.status_code == 403
    rid = failed_record(engine, "z")
    failed = {"action": "requeue_selected", "_selected_action": [rid]}
    assert client.post(f"{BASE}/q/other/failed/", failed).status_code == 403
    assert [m.id for m in engine.peek("emails-dlq")] == [mid]
    assert engine.peek_message("other", other).state == "delayed"
    assert engine.failed("other").total == 1


def test_delete_permission(client_for: ClientFor, engine: RSMQ) -> None:
    client = client_for(*without("delete_message"))
    mid = dead_letter(engine, "x")
    data = {"action": "delete_selected", "_selected_action": [mid]}
    assert client.post(f"{BASE}/q/emails/dlq/", data).status_code == 403
    rid = failed_record(engine, "z")
    other = engine.send("other", "y")
    assert client.post(f"{BASE}/q/other/messages/{other}/delete/").status_code == 403
    failed = {"action": "delete_selected", "_selected_action": [rid]}
    assert client.post(f"{BASE}/q/other/failed/", failed).status_code == 403
    assert engine.get_queue_attributes("emails-dlq").msgs == 1
    assert engine.peek_message("other", other).body == "y"
    assert engine.failed("other").total == 1


def test_purge_permission(client_for: ClientFor, engine: RSMQ) -> None:
    client = client_for(*without("purge_queue"))
    engine.send("other", "x")
    dead_letter(engine, "y")
    failed_record(engine, "z")
    assert b"Purge" not in client.get(f"{BASE}/q/other/").content
    for url in ("/q/other/purge/", "/q/emails/dlq/all/purge/", "/q/other/failed/all/purge/"):
        assert client.get(f"{BASE}{url}").status_code == 403, url
        assert client.post(f"{BASE}{url}").status_code == 403, url
    assert engine.get_queue_attributes("other").msgs == 1
    assert engine.get_queue_attributes("emails-dlq").msgs == 1
    assert engine.failed("other").total == 1


def test_change_attributes_permission(client_for: ClientFor, engine: RSMQ) -> None:
    client = client_for(*without("change_queue_attributes"))
    assert b'id="attributes-form"' not in client.get(f"{BASE}/q/other/").content
    r = client.post(f"{BASE}/q/other/", {"vt": 99, "delay": 0, "maxsize": 65536})
    assert r.status_code == 403
    assert engine.get_queue_attributes("other").vt == 30


def test_custom_permission_check_can_deny_a_superuser(
    django_user_model: Any, engine: RSMQ, rsmq_on_test_redis: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", password="pw"))
    engine.send("other", "x")
    check = {"PERMISSION_CHECK": "tests.admin.permission_checks.view_only"}
    with override_settings(RSMQ={**rsmq_on_test_redis, "ADMIN": check}):
        assert client.get(f"{BASE}/q/other/").status_code == 200
        assert client.post(f"{BASE}/q/other/purge/").status_code == 403
    assert engine.get_queue_attributes("other").msgs == 1


def test_custom_permission_check_can_allow_staff_without_model_permissions(
    client_for: ClientFor, engine: RSMQ, rsmq_on_test_redis: dict[str, Any]
) -> None:
    client = client_for("view_queue")
    engine.send("other", "x")
    check = {"PERMISSION_CHECK": "tests.admin.permission_checks.everything"}
    assert client.post(f"{BASE}/q/other/purge/").status_code == 403
    with override_settings(RSMQ={**rsmq_on_test_redis, "ADMIN": check}):
        assert client.post(f"{BASE}/q/other/purge/", {"confirm": "yes"}).status_code == 302
    assert engine.get_queue_attributes("other").msgs == 0


def test_custom_permission_check_still_requires_staff(
    client_for: ClientFor, rsmq_on_test_redis: dict[str, Any]
) -> None:
    client = client_for(staff=False)
    check = {"PERMISSION_CHECK": "tests.admin.permission_checks.everything"}
    with override_settings(RSMQ={**rsmq_on_test_redis, "ADMIN": check}):
        assert client.get(f"{BASE}/").status_code == 302


def _csrf_posts(engine: RSMQ) -> list[tuple[str, dict[str, Any]]]:
    mid = dead_letter(engine, "x")
    rid = failed_record(engine, "y")
    other = engine.send("other", "z")
    return [
        (f"{BASE}/q/other/", {"vt": 31, "delay": 0, "maxsize": 65536}),
        (f"{BASE}/q/other/purge/", {}),
        (f"{BASE}/q/other/messages/{other}/delete/", {}),
        (f"{BASE}/q/other/messages/{other}/visible/", {}),
        (f"{BASE}/q/other/messages/{other}/move/", {"to": "emails"}),
        (f"{BASE}/q/emails/dlq/", {"action": "requeue_selected", "_selected_action": [mid]}),
        (f"{BASE}/q/other/failed/", {"action": "delete_selected", "_selected_action": [rid]}),
        (f"{BASE}/q/emails/dlq/all/requeue/", {}),
        (f"{BASE}/q/other/failed/all/purge/", {}),
    ]


def test_every_mutating_action_needs_a_csrf_token(client_for: ClientFor, engine: RSMQ) -> None:
    client = client_for(csrf=True)
    for url, data in _csrf_posts(engine):
        assert client.post(url, data).status_code == 403, url
    assert engine.get_queue_attributes("other").msgs == 1
    assert engine.get_queue_attributes("emails-dlq").msgs == 1
    assert engine.failed("other").total == 1


def test_mutating_actions_work_with_the_csrf_token(client_for: ClientFor, engine: RSMQ) -> None:
    client = client_for(csrf=True)
    mid = dead_letter(engine, "x")
    page = client.get(f"{BASE}/q/emails/dlq/")
    token = page.context["csrf_token"]
    data = {"action": "requeue_selected", "_selected_action": [mid], "csrfmiddlewaretoken": token}
    assert client.post(f"{BASE}/q/emails/dlq/", data).status_code == 302
    assert engine.peek_message("emails", mid).state == "visible"


def test_get_never_mutates(client_for: ClientFor, engine: RSMQ) -> None:
    client = client_for()
    mid = engine.send("other", "x", delay=600)
    for action, status in (("delete", 200), ("visible", 302), ("move", 200)):
        r = client.get(f"{BASE}/q/other/messages/{mid}/{action}/")  # a confirm page, or back
        assert r.status_code == status, action
    assert engine.peek_message("other", mid).state == "delayed"
