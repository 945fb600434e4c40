"""Safe destructive actions on the queue and message pages (issue 16): delete and move go
through a confirm page, move preselects no target, purge states the count and the cost;
every mutating action writes a LogEntry (shown in "Recent actions", linking to the queue)
and sends ``admin_action``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.test import Client

from django_rsmq import signals
from django_rsmq.engine import RSMQ
from django_rsmq.engine.errors import MessageNotFound

pytestmark = pytest.mark.django_db

BASE = "/admin/django_rsmq/queue"


@pytest.fixture
def client(client_for: Any) -> Client:
    return client_for()


@pytest.fixture
def sent() -> Iterator[list[dict[str, Any]]]:
    """The ``admin_action`` signals sent during the test."""
    got: list[dict[str, Any]] = []

    def on_action(sender: Any, **kwargs: Any) -> None:
        got.append({"queue": sender, **kwargs})

    signals.admin_action.connect(on_action)
    yield got
    signals.admin_action.disconnect(on_action)


def entries() -> list[tuple[str, int, str]]:
    return [
        (e.object_id, e.action_flag, e.change_message)
        for e in LogEntry.objects.order_by("action_time", "pk")
    ]


def test_delete_asks_first_with_danger_styling_and_csrf(client: Client, engine: RSMQ) -> None:
    mid = engine.send("other", {"x": 1})
    html = client.get(f"{BASE}/q/other/messages/{mid}/").content.decode()
    assert f'href="{BASE}/q/other/messages/{mid}/delete/"' in html  # a link to the confirm page
    assert 'method="post" action="' + f"{BASE}/q/other/messages/{mid}/delete/" not in html
    confirm = client.get(f"{BASE}/q/other/messages/{mid}/delete/")
    page = confirm.content.decode()
    assert confirm.status_code == 200
    assert "delete-confirmation" in page  # Django's danger styling of the submit button
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'name="confirm"' in page
    assert "This cannot be undone" in page
    # a POST without confirm (an old form, a replayed request) only shows the confirm page
    again = client.post(f"{BASE}/q/other/messages/{mid}/delete/")
    assert again.status_code == 200
    assert again.templates[0].name == "admin/django_rsmq/confirm.html"
    assert engine.peek_message("other", mid).body == {"x": 1}
    assert entries() == []


def test_confirmed_delete_is_audited(client: Client, engine: RSMQ, sent: list[Any]) -> None:
    mid = engine.send("other", "x")
    r = client.post(f"{BASE}/q/other/messages/{mid}/delete/", {"confirm": "yes"})
    assert r.status_code == 302
    with pytest.raises(MessageNotFound):
        engine.peek_message("other", mid)
    assert entries() == [("other", DELETION, f"delete: message {mid}")]
    assert [(s["queue"], s["action"], s["kind"]) for s in sent] == [("other", "delete", "delete")]
    assert sent[0]["user"].is_authenticated


def test_move_preselects_no_target_and_needs_one(client: Client, engine: RSMQ) -> None:
    mid = engine.send("other", "x")
    page = client.get(f"{BASE}/q/other/messages/{mid}/move/")
    form = page.context["form"]
    assert form["to"].value() in (None, "")
    html = page.content.decode()
    assert '<option value="" selected>' in html
    assert '<option value="emails" selected>' not in html
    r = client.post(f"{BASE}/q/other/messages/{mid}/move/", {"confirm": "yes"})  # no target
    assert r.status_code == 200
    assert "to" in r.context["form"].errors
    assert engine.peek_message("other", mid).body == "x"
    assert entries() == []


def test_confirmed_move_is_audited(client: Client, engine: RSMQ, sent: list[Any]) -> None:
    mid = engine.send("other", "x")
    r = client.post(f"{BASE}/q/other/messages/{mid}/move/", {"to": "emails", "confirm": "yes"})
    assert r.status_code == 302
    assert engine.peek_message("emails", mid).body == "x"
    assert entries() == [("other", CHANGE, f"move: message {mid} to emails")]
    assert [s["action"] for s in sent] == ["move"]


def test_make_visible_is_audited(client: Client, engine: RSMQ) -> None:
    mid = engine.send("other", "x", delay=600)
    assert client.post(f"{BASE}/q/other/messages/{mid}/visible/").status_code == 302
    assert entries() == [("other", CHANGE, f"make_visible: message {mid}")]


def test_purge_states_count_and_cost_and_is_audited(
    client: Client, engine: RSMQ, sent: list[Any]
) -> None:
    for start in (0, 600):
        engine.send_many("other", list(range(start, start + 600)))
    confirm = client.get(f"{BASE}/q/other/purge/")
    html = confirm.content.decode()
    assert "Delete all 1,200 message(s)" in html
    assert "3 Redis call(s) of at most 500 messages" in html
    assert "delete-confirmation" in html
    assert client.post(f"{BASE}/q/other/purge/").status_code == 200  # no confirm: asks again
    assert engine.get_queue_attributes("other").msgs == 1200
    r = client.post(f"{BASE}/q/other/purge/", {"confirm": "yes"})
    assert r.status_code == 302
    assert engine.get_queue_attributes("other").msgs == 0
    assert entries() == [("other", DELETION, "purge: 1200 message(s)")]
    assert [(s["action"], s["detail"]) for s in sent] == [("purge", "1200 message(s)")]


def test_attribute_edit_is_audited_with_the_change(client: Client, engine: RSMQ) -> None:
    client.post(f"{BASE}/q/other/", {"vt": 45, "delay": 0, "maxsize": 65536})
    assert entries() == [("other", CHANGE, "attributes: vt 30.0 -> 45.0")]


def test_recent_actions_list_the_entry_and_link_to_the_queue(client: Client, engine: RSMQ) -> None:
    mid = engine.send("other", "x", delay=600)
    client.post(f"{BASE}/q/other/messages/{mid}/visible/")
    home = client.get("/admin/").content.decode()
    assert f'href="{BASE}/other/change/"' in home  # "Recent actions" links a change entry
    r = client.get(f"{BASE}/other/change/")
    assert (r.status_code, r["Location"]) == (302, f"{BASE}/q/other/")
    assert client.get(f"{BASE}/bad.name/change/").status_code == 404
