"""Bounded, honest search of the queue's message browser (issue 16): a byte and time budget
per request, chunks of about 1 MiB per Redis call, "continue" from a cursor, and never a
false "no match" (the old search stopped silently after 10,000 messages)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from django_rsmq.engine import RSMQ
from django_rsmq.operations import messages

pytestmark = pytest.mark.django_db

BASE = "/admin/django_rsmq/queue"


@pytest.fixture
def client(client_for: Any) -> Client:
    return client_for("view_queue")


def fill(engine: RSMQ, n: int, body: str = "plain") -> None:
    for start in range(0, n, 1000):
        engine.send_many("other", [body] * min(1000, n - start))


def test_a_match_past_10000_messages_is_found(client: Client, engine: RSMQ) -> None:
    fill(engine, 10_050)
    needle = engine.send("other", {"order": "NEEDLE-7"})
    r = client.get(f"{BASE}/q/other/?q=needle-7")
    found = r.context["found"]
    assert [m.id for m in found.matches] == [needle]
    assert found.complete
    assert (found.start, found.end, found.total) == (0, 10_051, 10_051)
    html = r.content.decode()
    assert "Looked at messages 1 to 10051 of 10051" in html
    assert "That is the end of the queue." in html
    assert 'id="search-continue"' not in html


def test_the_byte_budget_stops_early_says_so_and_continues(
    client: Client, engine: RSMQ, rsmq_on_test_redis: dict[str, Any]
) -> None:
    fill(engine, 300, "x" * 1000)
    needle = engine.send("other", "the needle")
    budget = {"SEARCH_BUDGET_BYTES": 100_000}
    with override_settings(RSMQ={**rsmq_on_test_redis, "ADMIN": budget}):
        first = client.get(f"{BASE}/q/other/?q=needle")
        found = first.context["found"]
        assert (found.matches, found.complete, found.stopped_by) == ([], False, "bytes")
        assert 100 <= found.end < 301
        html = first.content.decode()
        assert "No messages match" not in html  # never a false "0 results"
        assert "No match so far." in html
        assert f"Looked at messages 1 to {found.end} of 301" in html
        assert "Stopped at this request's byte budget." in html
        ends = [found.end]
        query = first.context["continue_query"]
        assert query == f"?q=needle&from={found.end}"
        assert f'href="{query.replace("&", "&amp;")}"' in html
        for _ in range(5):  # a few "continue" clicks reach it
            r = client.get(f"{BASE}/q/other/{query}")
            found = r.context["found"]
            ends.append(found.end)
            if found.matches:
                break
            query = r.context["continue_query"]
    assert [m.id for m in found.matches] == [needle]
    assert found.complete
    assert ends == sorted(ends)
    assert f"Looked at messages {ends[-2] + 1} to 301 of 301" in r.content.decode()


def test_the_time_budget_stops_after_one_chunk(engine: RSMQ) -> None:
    fill(engine, 100)
    found = messages.search("other", "absent", budget_seconds=0)
    assert (found.stopped_by, found.complete, found.calls) == ("time", False, 1)
    assert found.next_start == found.end > 0


def test_each_redis_call_reads_about_one_chunk_of_bodies(engine: RSMQ) -> None:
    fill(engine, 200, "y" * 60_000)  # 60 KB bodies: 12 MB in all
    found = messages.search("other", "absent", budget_bytes=10**9, budget_seconds=60)
    assert found.complete
    assert found.bytes_read == 200 * 60_000
    # one call asked for 1 MiB worth of messages at most (17 of 60 KB), after a first 16
    assert found.calls >= 200 // 17
    assert found.bytes_read / found.calls <= messages.SEARCH_CHUNK_BYTES + 60_000


def test_a_full_page_continues_right_after_its_last_match(engine: RSMQ) -> None:
    for i in range(30):
        engine.send("other", f"hit {i}" if i % 3 == 0 else "miss")
    order = [m.id for m in engine.peek("other", limit=30) if m.body.startswith("hit")]
    first = messages.search("other", "HIT", limit=4)
    assert [m.id for m in first.matches] == order[:4]
    assert first.stopped_by == "page"
    rest = messages.search("other", "hit", start=first.end, limit=50)
    assert [m.id for m in rest.matches] == order[4:]
    assert rest.complete


def test_a_bad_cursor_is_ignored(client: Client, engine: RSMQ) -> None:
    engine.send("other", "abc")
    for cursor in ("x", "-5", str(2**60)):
        r = client.get(f"{BASE}/q/other/?q=abc&from={cursor}")
        assert r.status_code == 200, cursor
