"""The failure-record and DLQ pages: lifecycle states, the requeue rules (the example
project's "Requeue all 30" bug), the record's permalink page, grouping and filters, DLQ
rows, confirm pages, page numbers, the audit trail. Django test client, real Redis."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from django_rsmq.engine import RSMQ
from tests.admin.conftest import dead_letter

pytestmark = pytest.mark.django_db

BASE = "/admin/django_rsmq/queue"


def flashed(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def client(client_for: Any) -> Client:
    return client_for()


def fail_once(
    engine: RSMQ, queue: str, body: Any, error: Exception | None = None, *, park: bool = True
) -> str:
    """Send ``body`` and fail its one delivery; with ``park``, its retry waits 10 min (so
    the next message sent is the next one received)."""
    mid = engine.send(queue, body)
    m = engine.receive(queue)
    assert m is not None
    assert m.id == mid
    engine.fail(m, error or ValueError(f"boom {body!r}"), traceback="Traceback: boom")
    if park:
        engine.change_visibility(queue, mid, 600)
    return mid


def succeeded(engine: RSMQ, queue: str, body: Any) -> str:
    """A message that failed once, then succeeded (acked) on its retry."""
    mid = fail_once(engine, queue, body, park=False)
    m = engine.receive(queue)
    assert m is not None
    assert m.id == mid
    engine.ack(m.receipt)
    return mid


def example(engine: RSMQ) -> dict[str, str]:
    """The example project in small: an order that succeeded on retry, a declined one
    in the DLQ, one dead-lettered then deleted from the DLQ (gone, 2 records), and one
    waiting for its retry. Each message's lifecycle ends before the next one starts."""
    ok = succeeded(engine, "emails", {"order": 1})
    declined = dead_letter(engine, {"order": 10})
    lost = dead_letter(engine, {"order": 20})
    engine.delete("emails-dlq", lost)
    waiting = fail_once(engine, "emails", {"order": 3})
    return {"ok": ok, "declined": declined, "lost": lost, "waiting": waiting}


def test_requeue_all_sends_only_gone_messages_once(client: Client, engine: RSMQ) -> None:
    ids = example(engine)
    assert engine.failed("emails").total == 6
    confirm = client.get(f"{BASE}/q/emails/failed/all/requeue/")
    assert (confirm.context["send_count"], confirm.context["skipped_count"]) == (1, 5)
    reasons = dict(confirm.context["reasons"])
    assert reasons == {
        "its message succeeded later": 1,
        "its message is in the dead-letter queue (requeue it from there)": 2,
        "a newer record of the same message is sent instead": 1,
        "its message is still in the queue": 1,
    }
    assert b'id="confirm-send">1<' in confirm.content
    r = client.post(f"{BASE}/q/emails/failed/all/requeue/", follow=True)
    assert flashed(r)[0].startswith("Requeued 1, ")
    bodies = sorted(str(m.body) for m in engine.peek("emails"))
    # the waiting order is there once, the lost one is back once; the succeeded order
    # and the declined one (still in the DLQ) are not sent again
    assert bodies == ["{'order': 20}", "{'order': 3}"]
    assert [m.id for m in engine.peek("emails-dlq")] == [ids["declined"]]
    # a second click finds nothing left to send
    again = client.post(f"{BASE}/q/emails/failed/all/requeue/", follow=True)
    assert flashed(again)[0].startswith("Requeued 0")
    assert len(engine.peek("emails")) == 2


def test_requeue_selected_confirms_with_counts_then_sends(client: Client, engine: RSMQ) -> None:
    ids = example(engine)
    page = client.get(f"{BASE}/q/emails/failed/")
    every = [row["id"] for row in page.context["rows"]]
    data = {"action": "requeue_selected", "_selected_action": every}
    confirm = client.post(f"{BASE}/q/emails/failed/", data)
    assert confirm.status_code == 200
    assert (confirm.context["send_count"], confirm.context["skipped_count"]) == (1, 5)
    assert "delete-confirmation" not in confirm.content.decode()  # no danger styling
    assert len(engine.peek("emails")) == 1  # nothing sent yet
    r = client.post(f"{BASE}/q/emails/failed/", {**data, "post": "yes"}, follow=True)
    assert flashed(r)[0].startswith("Requeued 1")
    (state, new_id) = engine.record_states("emails", [ids["lost"]])[0]
    assert state == "requeued"
    assert engine.peek_message("emails", new_id).body == {"order": 20}


def test_rows_say_what_became_of_each_message(client: Client, engine: RSMQ) -> None:
    ids = example(engine)
    rows = client.get(f"{BASE}/q/emails/failed/").context["rows"]
    by_message: dict[str, set[str]] = {}
    for row in rows:
        by_message.setdefault(row["message_id"], set()).add(row["state"].state)
    assert by_message == {
        ids["ok"]: {"succeeded"},
        ids["declined"]: {"dead_lettered"},
        ids["lost"]: {"gone"},
        ids["waiting"]: {"waiting"},
    }
    links = {row["message_id"]: row["message_url"] for row in rows}
    assert links[ids["waiting"]] == f"{BASE}/q/emails/messages/{ids['waiting']}/"
    assert links[ids["declined"]] == f"{BASE}/q/emails-dlq/messages/{ids['declined']}/"
    assert links[ids["ok"]] == f"{BASE}/q/emails/failed/?message={ids['ok']}"
    every = client.get(links[ids["lost"]])
    assert {row["message_id"] for row in every.context["rows"]} == {ids["lost"]}
    assert every.context["pager"].total == 2


def test_group_by_type_and_filter_by_type_state_and_time(client: Client, engine: RSMQ) -> None:
    fail_once(engine, "other", "a", KeyError("k"))
    fail_once(engine, "other", "b", KeyError("k"))
    fail_once(engine, "other", "c", RuntimeError("r"))
    page = client.get(f"{BASE}/q/other/failed/")
    assert [(g["type"], g["count"]) for g in page.context["groups"]] == [
        ("KeyError", 2),
        ("RuntimeError", 1),
    ]
    keyerr = client.get(f"{BASE}/q/other/failed/{page.context['groups'][0]['url']}")
    assert keyerr.context["pager"].total == 2
    assert {row["exc_type"] for row in keyerr.context["rows"]} == {"KeyError"}
    assert client.get(f"{BASE}/q/other/failed/?state=waiting").context["pager"].total == 3
    assert client.get(f"{BASE}/q/other/failed/?state=succeeded").context["pager"].total == 0
    assert client.get(f"{BASE}/q/other/failed/?range=1h").context["pager"].total == 3
    both = client.get(f"{BASE}/q/other/failed/?type=RuntimeError&range=24h&state=waiting")
    assert both.context["pager"].total == 1
    assert b"clear all filters" in both.content


def test_filters_survive_paging(
    client: Client, engine: RSMQ, rsmq_on_test_redis: dict[str, Any]
) -> None:
    from django.test import override_settings

    for n in range(3):
        fail_once(engine, "other", n, KeyError("k"))
    fail_once(engine, "other", "x", RuntimeError("r"))
    with override_settings(RSMQ={**rsmq_on_test_redis, "ADMIN": {"PAGE_SIZE": 2}}):
        first = client.get(f"{BASE}/q/other/failed/?type=KeyError&state=waiting")
        links = first.context["pager"].links
        second = client.get(f"{BASE}/q/other/failed/{links[1]['query']}")
    assert "type=KeyError" in links[1]["query"]
    assert "state=waiting" in links[1]["query"]
    assert second.context["pager"].total == 3
    assert len(second.context["rows"]) == 1


def test_record_page_shows_traceback_body_and_every_attempt(client: Client, engine: RSMQ) -> None:
    mid = engine.send("other", {"html": "<script>alert(1)</script>"})
    tb = 'Traceback (most recent call last):\n  File "app/tasks.py", line 12\n' + "x" * 300
    for n in range(3):
        m = engine.receive("other")
        assert m is not None
        engine.fail(m, ValueError(f"attempt {n} <b>"), traceback=tb + "<script>")
    records = engine.failed("other").items
    middle = records[1]
    r = client.get(f"{BASE}/q/other/failed/{middle.id}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "&lt;script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "attempt 1 &lt;b&gt;" in html
    assert 'class="rsmq-traceback" id="record-traceback"' in html
    assert "line 12\n" in html  # the traceback's lines as they are
    style = html[
        html.index("pre.rsmq-traceback") : html.index("}", html.index("pre.rsmq-traceback"))
    ]
    assert "break-all" not in style
    assert len(r.context["attempts"]) == 3
    assert [a["current"] for a in r.context["attempts"]] == [False, True, False]
    assert r.context["state"].state == "waiting"
    assert r.context["message_url"] == f"{BASE}/q/other/messages/{mid}/"
    assert f'href="/admin/django_rsmq/queue/q/other/failed/{middle.id}/"' in html  # permalink
    listing = client.get(f"{BASE}/q/other/failed/")
    assert f"{BASE}/q/other/failed/{middle.id}/" in [row["url"] for row in listing.context["rows"]]
    assert client.get(f"{BASE}/q/other/failed/{'0' * 32}/").status_code == 404


def test_dlq_rows_say_where_from_why_and_how_many_receives(client: Client, engine: RSMQ) -> None:
    mid = dead_letter(engine, {"to": "x@example.com"})
    peer = engine.send("emails-dlq", "put there by a plain RSMQ client")
    r = client.get(f"{BASE}/q/emails/dlq/")
    rows = {row["id"]: row for row in r.context["rows"]}
    row = rows[mid]
    assert row["info"].queue == "emails"
    assert row["source_url"] == f"{BASE}/q/emails/"
    assert row["info"].error_type == "ValueError"
    assert "boom" in row["info"].error
    assert row["dead_lettered_at"] is not None
    assert row["rc"] == 2  # the receives it died after (the DLQ copy's own rc is 0)
    assert rows[peer]["info"] is None
    html = r.content.decode()
    assert 'class="num field-rc">2<' in html
    assert "unknown (sent by another client)" in html


def test_delete_selected_on_either_list_needs_a_confirm_page(client_for: Any, engine: RSMQ) -> None:
    client = client_for(csrf=True)
    mid = dead_letter(engine, "d")
    rid = engine.failed("emails").items[0].id
    for url, sel in ((f"{BASE}/q/emails/dlq/", mid), (f"{BASE}/q/emails/failed/", rid)):
        page = client.get(url)
        token = page.cookies["csrftoken"].value
        data = {
            "action": "delete_selected",
            "_selected_action": [sel],
            "csrfmiddlewaretoken": token,
        }
        confirm = client.post(url, data)
        assert confirm.status_code == 200
        html = confirm.content.decode()
        assert "delete-confirmation" in html  # the admin's danger styling
        assert 'id="confirm-count">1<' in html
        assert 'name="post" value="yes"' in html
        assert (
            client.post(url, {**data, "post": "yes", "csrfmiddlewaretoken": ""}).status_code == 403
        )
        r = client.post(url, {**data, "post": "yes"}, follow=True)
        assert flashed(r) == ["Deleted 1"]
    assert engine.peek("emails-dlq") == []
    assert engine.failed("emails").total == 1


def test_delete_needs_the_delete_permission_even_for_the_confirm_page(
    client_for: Any, engine: RSMQ
) -> None:
    client = client_for("view_queue", "requeue_message")
    mid = dead_letter(engine, "d")
    data = {"action": "delete_selected", "_selected_action": [mid]}
    assert client.post(f"{BASE}/q/emails/dlq/", data).status_code == 403
    assert client.post(f"{BASE}/q/emails/dlq/", {**data, "post": "yes"}).status_code == 403
    assert [m.id for m in engine.peek("emails-dlq")] == [mid]


def test_every_records_action_is_in_the_audit_trail(client: Client, engine: RSMQ) -> None:
    ids = example(engine)
    lost_records = [r.id for r in engine.failed("emails", message_id=ids["lost"]).items]
    client.post(
        f"{BASE}/q/emails/failed/",
        {"action": "requeue_selected", "_selected_action": lost_records, "post": "yes"},
    )
    client.post(
        f"{BASE}/q/emails/failed/",
        {"action": "delete_selected", "_selected_action": lost_records[:1], "post": "yes"},
    )
    client.post(
        f"{BASE}/q/emails/dlq/",
        {"action": "requeue_selected", "_selected_action": [ids["declined"]]},
    )
    client.post(f"{BASE}/q/emails/failed/all/requeue/")
    client.post(f"{BASE}/q/emails/failed/all/purge/")
    client.post(f"{BASE}/q/emails/dlq/all/purge/")
    log = [e.change_message for e in LogEntry.objects.order_by("pk")]
    assert log == [
        "requeue: failure records: Requeued 1, 1 skipped "
        "(a newer record of the same message is sent instead)",
        "delete: failure records: Deleted 0, 1 was already gone",
        "requeue: DLQ: Requeued 1",
        log[3],
        "purge_all: failure records: Purged 5",
        "purge_all: DLQ: Purged 0",
    ]
    assert log[3].startswith("requeue_all: failure records: Requeued 0")
    assert {e.object_id for e in LogEntry.objects.all()} == {"emails"}


@pytest.mark.parametrize(
    "query",
    ["?p=900719925474100", "?p=-1", "?p=0", "?p=abc", "?p=1.5", "?p=%EF%BC%91", "?p=2"],
)
@pytest.mark.parametrize("page", ["emails/failed/", "emails/dlq/", "emails/"])
def test_absurd_or_past_the_end_page_numbers_are_404(
    client: Client, engine: RSMQ, page: str, query: str
) -> None:
    dead_letter(engine, "x")  # one DLQ message, two failure records: one page each
    assert client.get(f"{BASE}/q/{page}").status_code == 200
    assert client.get(f"{BASE}/q/{page}{query}").status_code == 404


def test_requeue_all_walks_every_record_past_one_read(client: Client, engine: RSMQ) -> None:
    """More records than one read (operations.redrive.WALK) holds: all are planned."""
    from django_rsmq.operations.redrive import WALK

    n = WALK + 30
    for i in range(n):
        fail_once(engine, "other", i, park=False)
        m = engine.receive("other")
        assert m is not None
        engine.delete("other", m.id)  # gone
    assert client.get(f"{BASE}/q/other/failed/all/requeue/").context["send_count"] == n
    r = client.post(f"{BASE}/q/other/failed/all/requeue/", follow=True)
    assert flashed(r) == [f"Requeued {n}"]
    assert sorted(int(m.body) for m in engine.peek("other", limit=1000)) == list(range(n))
    assert client.get(f"{BASE}/q/other/failed/?state=requeued").context["pager"].total == 0
