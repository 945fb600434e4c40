"""Every page and action of the RSMQ admin through the Django test client."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from django_rsmq.engine import RSMQ
from django_rsmq.engine.errors import MessageNotFound
from django_rsmq.engine.registry import ConsumerRegistry
from tests.admin.conftest import dead_letter, failed_record

pytestmark = pytest.mark.django_db

BASE = "/admin/django_rsmq/queue"


def flashed(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def client(client_for: Any) -> Client:
    return client_for()


def test_admin_index_has_an_rsmq_section(client: Client) -> None:
    r = client.get("/admin/")
    assert r.status_code == 200
    assert b"RSMQ" in r.content
    assert f'href="{BASE}/"'.encode() in r.content


def test_dashboard_shows_a_row_per_queue_with_counts(client: Client, engine: RSMQ) -> None:
    engine.send("emails", "a")
    engine.send("emails", "b", delay=600)
    engine.send("other", "c")
    assert engine.receive("other") is not None
    r = client.get(f"{BASE}/")
    assert r.status_code == 200
    rows = {row["q"].name: row["q"] for row in r.context["rows"]}
    assert set(rows) == {"emails", "emails-dlq", "other"}
    assert (rows["emails"].visible, rows["emails"].delayed, rows["emails"].sent) == (1, 1, 2)
    assert (rows["other"].in_flight, rows["other"].received) == (1, 1)
    assert rows["emails"].dead_letter_queue == "emails-dlq"
    assert rows["emails"].vt == 30
    assert rows["emails"].max_receives == 2
    assert b'data-queue="emails"' in r.content


def test_queue_page_peeks_without_receiving(client: Client, engine: RSMQ) -> None:
    mid = engine.send("emails", {"n": 1})
    r = client.get(f"{BASE}/q/emails/")
    assert r.status_code == 200
    assert [row["m"].id for row in r.context["rows"]] == [mid]
    attrs = engine.get_queue_attributes("emails")
    assert (attrs.totalrecv, attrs.visible) == (0, 1)
    assert engine.peek_message("emails", mid).rc == 0


def test_queue_page_is_paged_and_searchable(
    client: Client, engine: RSMQ, rsmq_on_test_redis: dict[str, Any]
) -> None:
    ids = [engine.send("other", {"n": i, "tag": "even" if i % 2 == 0 else "odd"}) for i in range(5)]
    with override_settings(RSMQ={**rsmq_on_test_redis, "ADMIN": {"PAGE_SIZE": 2}}):
        first = client.get(f"{BASE}/q/other/")
        last = client.get(f"{BASE}/q/other/?p=3")
        past = client.get(f"{BASE}/q/other/?p=4")
        found = client.get(f"{BASE}/q/other/?q=EVEN")
        more = client.get(f"{BASE}/q/other/{found.context['continue_query']}")
    assert [row["m"].id for row in first.context["rows"]] == ids[:2]
    assert first.context["pager"].num_pages == 3
    assert [row["m"].id for row in last.context["rows"]] == ids[4:]
    assert past.status_code == 404  # past the last page, like Django's paginator
    assert not found.context["found"].complete  # page size 2: 2 of 3 matches, then "continue"
    assert [row["m"].id for row in found.context["rows"]] == [ids[0], ids[2]]
    assert [row["m"].id for row in more.context["rows"]] == [ids[4]]
    assert more.context["found"].complete


def test_attribute_form_changes_the_queue(client: Client, engine: RSMQ) -> None:
    r = client.post(f"{BASE}/q/other/", {"vt": 45, "delay": 3, "maxsize": 2048}, follow=True)
    assert flashed(r) == ["Saved the attributes of other."]
    a = engine.get_queue_attributes("other")
    assert (a.vt, a.delay, a.maxsize) == (45, 3, 2048)


def test_attribute_form_rejects_bad_values_and_changes_nothing(
    client: Client, engine: RSMQ
) -> None:
    r = client.post(f"{BASE}/q/other/", {"vt": -1, "delay": 0, "maxsize": 10})
    assert r.status_code == 200
    assert set(r.context["form"].errors) == {"vt", "maxsize"}
    a = engine.get_queue_attributes("other")
    assert (a.vt, a.maxsize) == (30, 65536)


def test_purge_asks_with_the_count_then_purges(client: Client, engine: RSMQ) -> None:
    for i in range(3):
        engine.send("other", i)
    confirm = client.get(f"{BASE}/q/other/purge/")
    assert confirm.status_code == 200
    assert confirm.context["count"] == 3
    assert b'id="confirm-count">3<' in confirm.content
    assert engine.get_queue_attributes("other").msgs == 3  # GET changes nothing
    r = client.post(f"{BASE}/q/other/purge/", {"confirm": "yes"}, follow=True)
    assert flashed(r) == ["Purged other: 3 message(s) deleted."]
    assert engine.get_queue_attributes("other").msgs == 0


def test_message_page_escapes_and_pretty_prints_the_body(client: Client, engine: RSMQ) -> None:
    mid = engine.send("other", {"html": "<script>alert('x')</script>", "n": 1})
    r = client.get(f"{BASE}/q/other/messages/{mid}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "{\n  &quot;html&quot;: " in html  # indented JSON
    assert r.context["m"].id == mid
    assert r.context["size"] > 0


def test_a_body_that_is_not_utf8_is_shown_escaped(client: Client, engine: RSMQ) -> None:
    mid = engine.send("other", "x")
    engine.client.hset(engine.protocol.keys.queue("other").hash, mid, b"\xff<script>")
    for url in (f"{BASE}/q/other/", f"{BASE}/q/other/messages/{mid}/"):
        r = client.get(url)
        assert r.status_code == 200
        assert "\ufffd&lt;script&gt;" in r.content.decode(), url


def test_dead_letter_page_says_where_it_came_from(client: Client, engine: RSMQ) -> None:
    mid = dead_letter(engine, {"n": 1})
    r = client.get(f"{BASE}/q/emails-dlq/messages/{mid}/")
    info = r.context["dead_letter"]
    assert (info.queue, info.rc, info.error_type) == ("emails", 2, "ValueError")
    assert "Dead-lettered from" in r.content.decode()


def test_script_in_a_body_is_escaped_on_every_listing(client: Client, engine: RSMQ) -> None:
    evil = "<script>alert(1)</script>"
    engine.send("other", evil)
    dead_letter(engine, evil)
    failed_record(engine, evil)
    for url in (f"{BASE}/q/other/", f"{BASE}/q/emails/dlq/", f"{BASE}/q/other/failed/"):
        html = client.get(url).content.decode()
        assert evil not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_message_delete(client: Client, engine: RSMQ) -> None:
    mid = engine.send("other", "x")
    r = client.post(f"{BASE}/q/other/messages/{mid}/delete/", {"confirm": "yes"}, follow=True)
    assert flashed(r) == [f"Deleted message {mid}."]
    with pytest.raises(MessageNotFound):
        engine.peek_message("other", mid)
    again = client.post(f"{BASE}/q/other/messages/{mid}/delete/", {"confirm": "yes"}, follow=True)
    assert flashed(again) == ["The message was already gone."]


def test_message_make_visible_now(client: Client, engine: RSMQ) -> None:
    mid = engine.send("other", "x", delay=600)
    assert engine.peek_message("other", mid).state == "delayed"
    r = client.post(f"{BASE}/q/other/messages/{mid}/visible/", follow=True)
    assert flashed(r) == [f"Message {mid} is visible now."]
    assert engine.peek_message("other", mid).state == "visible"


def test_message_move_to_another_queue(client: Client, engine: RSMQ) -> None:
    mid = engine.send("other", {"keep": "me"})
    page = client.get(f"{BASE}/q/other/messages/{mid}/move/")
    assert ("emails", "emails") in page.context["form"].fields["to"].choices
    r = client.post(
        f"{BASE}/q/other/messages/{mid}/move/", {"to": "emails", "confirm": "yes"}, follow=True
    )
    assert flashed(r) == [f"Moved message {mid} to emails."]
    assert r.request["PATH_INFO"] == f"{BASE}/q/emails/messages/{mid}/"
    assert engine.peek_message("emails", mid).body == {"keep": "me"}
    with pytest.raises(MessageNotFound):
        engine.peek_message("other", mid)


def test_message_move_to_an_unknown_queue_is_refused(client: Client, engine: RSMQ) -> None:
    mid = engine.send("other", "x")
    r = client.post(f"{BASE}/q/other/messages/{mid}/move/", {"to": "nowhere", "confirm": "yes"})
    assert r.status_code == 200
    assert "to" in r.context["form"].errors
    assert engine.peek_message("other", mid).body == "x"


def test_dlq_page_lists_and_searches(client: Client, engine: RSMQ) -> None:
    a = dead_letter(engine, {"who": "alice"})
    b = dead_letter(engine, {"who": "bob"})
    r = client.get(f"{BASE}/q/emails/dlq/")
    assert [row["id"] for row in r.context["rows"]] == [a, b]
    assert r.context["dead_letter_queue"] == "emails-dlq"
    found = client.get(f"{BASE}/q/emails/dlq/?q=BOB")
    assert [row["id"] for row in found.context["rows"]] == [b]


def test_dlq_requeue_selected_reports_missing(client: Client, engine: RSMQ) -> None:
    a = dead_letter(engine, "a")
    b = dead_letter(engine, "b")
    engine.delete("emails-dlq", b)
    r = client.post(
        f"{BASE}/q/emails/dlq/",
        {"action": "requeue_selected", "_selected_action": [a, b]},
        follow=True,
    )
    assert flashed(r) == ["Requeued 1, 1 was already gone"]
    back = engine.peek_message("emails", a)
    assert back.state == "visible"
    assert back.rc == 0
    assert engine.get_queue_attributes("emails-dlq").msgs == 0


def test_admin_requeue_sends_message_requeued_with_the_user(client_for: Any, engine: RSMQ) -> None:
    from django_rsmq import signals

    got: list[dict[str, Any]] = []

    def receiver(sender: str, **kwargs: Any) -> None:
        got.append({"sender": sender, **kwargs})

    signals.message_requeued.connect(receiver)
    try:
        client = client_for()
        mid = dead_letter(engine, "a")
        data = {"action": "requeue_selected", "_selected_action": [mid]}
        client.post(f"{BASE}/q/emails/dlq/", data)
    finally:
        signals.message_requeued.disconnect(receiver)
    (event,) = got
    assert (event["sender"], event["source"], event["moved"], event["ids"]) == (
        "emails",
        "admin",
        1,
        [mid],
    )
    assert event["user"].is_staff


def test_dlq_delete_selected(client: Client, engine: RSMQ) -> None:
    a = dead_letter(engine, "a")
    b = dead_letter(engine, "b")
    data = {"action": "delete_selected", "_selected_action": [a]}
    confirm = client.post(f"{BASE}/q/emails/dlq/", data)  # a confirm page first
    assert confirm.context["count"] == 1
    assert len(engine.peek("emails-dlq")) == 2
    r = client.post(f"{BASE}/q/emails/dlq/", {**data, "post": "yes"}, follow=True)
    assert flashed(r) == ["Deleted 1"]
    assert [m.id for m in engine.peek("emails-dlq")] == [b]


def test_dlq_action_without_selection_or_action_changes_nothing(
    client: Client, engine: RSMQ
) -> None:
    a = dead_letter(engine, "a")
    r = client.post(f"{BASE}/q/emails/dlq/", {"action": "requeue_selected"}, follow=True)
    assert "No items have been changed" in flashed(r)[0]
    r = client.post(f"{BASE}/q/emails/dlq/", {"action": "", "_selected_action": [a]}, follow=True)
    assert flashed(r) == ["Choose an action."]
    assert [m.id for m in engine.peek("emails-dlq")] == [a]


def test_dlq_requeue_all_and_purge_all_confirm_with_the_count(client: Client, engine: RSMQ) -> None:
    for body in ("a", "b", "c"):
        dead_letter(engine, body)
    confirm = client.get(f"{BASE}/q/emails/dlq/all/requeue/")
    assert confirm.context["count"] == 3
    assert engine.get_queue_attributes("emails-dlq").msgs == 3
    r = client.post(f"{BASE}/q/emails/dlq/all/requeue/", follow=True)
    assert flashed(r) == ["Requeued 3"]
    assert engine.get_queue_attributes("emails").visible == 3
    for body in ("d", "e"):
        engine.purge("emails")
        dead_letter(engine, body)
    assert client.get(f"{BASE}/q/emails/dlq/all/purge/").context["count"] == 2
    r = client.post(f"{BASE}/q/emails/dlq/all/purge/", follow=True)
    assert flashed(r) == ["Purged 2"]
    assert engine.get_queue_attributes("emails-dlq").msgs == 0


def test_failed_page_lists_searches_requeues_and_deletes(client: Client, engine: RSMQ) -> None:
    r1 = failed_record(engine, {"n": 1})
    r2 = failed_record(engine, {"n": 2})
    page = client.get(f"{BASE}/q/other/failed/")
    rows = page.context["rows"]
    assert [row["id"] for row in rows] == [r2, r1]  # newest first
    assert rows[0]["exc_type"] == "KeyError"
    assert "Traceback: missing" in client.get(rows[0]["url"]).content.decode()  # its page
    assert client.get(f"{BASE}/q/other/failed/?q=nomatch").context["pager"].total == 0
    assert client.get(f"{BASE}/q/other/failed/?q=keyerror").context["pager"].total == 2
    r = client.post(
        f"{BASE}/q/other/failed/",
        {"action": "requeue_selected", "_selected_action": [r1], "post": "yes"},
        follow=True,
    )
    assert flashed(r) == ["Requeued 1"]
    assert [m.body for m in engine.peek("other")] == [{"n": 1}]
    r = client.post(
        f"{BASE}/q/other/failed/",
        {"action": "delete_selected", "_selected_action": [r2, r1], "post": "yes"},
        follow=True,
    )
    assert flashed(r) == ["Deleted 1, 1 was already gone"]
    assert engine.failed("other").total == 0


def test_failed_requeue_all_and_purge_all(client: Client, engine: RSMQ) -> None:
    for n in range(3):
        failed_record(engine, {"n": n})
    assert client.get(f"{BASE}/q/other/failed/all/requeue/").context["count"] == 3
    r = client.post(f"{BASE}/q/other/failed/all/requeue/", follow=True)
    assert flashed(r) == ["Requeued 3"]
    assert engine.get_queue_attributes("other").msgs == 3
    engine.purge("other")
    failed_record(engine, "x")
    r = client.post(f"{BASE}/q/other/failed/all/purge/", follow=True)
    assert flashed(r) == ["Purged 1"]
    assert engine.failed("other").total == 0


def test_consumers_page_marks_stale_ones(client: Client, engine: RSMQ) -> None:
    registry = ConsumerRegistry(engine.client, engine.namespace)
    fields = {"host": "web-1", "pid": 4242, "queues": ["emails"], "started": time.time()}
    registry.beat("alive-one", {**fields, "processed": 7, "failed": 1}, ttl=30)
    registry.beat("dead-one", fields, ttl=30)
    engine.client.delete(registry.keys.consumer("dead-one"))  # its record expired
    r = client.get(f"{BASE}/consumers/")
    by_name = {row["c"].name: row["c"] for row in r.context["rows"]}
    assert by_name["alive-one"].alive
    assert by_name["alive-one"].processed == 7
    assert not by_name["dead-one"].alive
    html = r.content.decode()
    assert 'class="rsmq-stale" data-consumer="dead-one"' in html
    assert "web-1" in html
    assert "4242" in html


@pytest.mark.parametrize(
    "url",
    [
        f"{BASE}/q/nosuchqueue/",
        f"{BASE}/q/nosuchqueue/purge/",
        f"{BASE}/q/other/messages/{'x' * 32}/",
        f"{BASE}/q/other/dlq/",  # "other" has no dead-letter queue
        f"{BASE}/q/nosuchqueue/failed/",
        f"{BASE}/q/emails/dlq/all/explode/",
        f"{BASE}/q/bad.name/",
    ],
)
def test_unknown_queue_message_or_page_is_404(client: Client, url: str) -> None:
    assert client.get(url).status_code == 404


def test_unknown_message_action_is_404(client: Client, engine: RSMQ) -> None:
    mid = engine.send("other", "x")
    assert client.post(f"{BASE}/q/other/messages/{mid}/explode/").status_code == 404
    assert (
        client.post(
            f"{BASE}/q/other/messages/{'y' * 32}/delete/", {"confirm": "yes"}, follow=True
        ).status_code
        == 200
    )


def test_custom_admin_site(client: Client) -> None:
    r = client.get("/custom-admin/django_rsmq/queue/")
    assert r.status_code == 200
    assert b"Ops console" in r.content
    assert b'href="/custom-admin/django_rsmq/queue/consumers/"' in r.content
    assert client.get("/custom-admin/").status_code == 200


def test_no_missing_migrations() -> None:
    out = io.StringIO()
    call_command("makemigrations", "django_rsmq", "--check", "--dry-run", stdout=out)
