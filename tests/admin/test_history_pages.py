"""The dashboard's history charts, tiles, filter and live part; the queue page's charts;
the format filters (human durations, thousands separators)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.template import Context, Template
from django.test import Client

from django_rsmq.conf import rsmq_settings
from django_rsmq.connections import get_rsmq
from django_rsmq.engine import RSMQ
from django_rsmq.engine import history as h
from django_rsmq.engine.registry import server_time
from django_rsmq.operations import history as ops_history
from django_rsmq.templatetags.rsmq_format import DASH, duration, rate, thousands
from tests.admin.conftest import dead_letter

pytestmark = pytest.mark.django_db

BASE = "/admin/django_rsmq/queue"


@pytest.fixture
def client(client_for: Callable[..., Client]) -> Client:
    return client_for()


def _history(engine: RSMQ, minutes: int = 30) -> None:
    """Half an hour of history records ending now (sends between the samples)."""
    r = get_rsmq()
    now = int(server_time(r.client.time()) * 1000)
    cfg = rsmq_settings().history.config()
    for m in range(minutes, -1, -1):
        for _ in range(m % 4):
            engine.send("emails", "x")
        h.sample(r.client, r.protocol.keys, ["emails", "other"], cfg, now_ms=now - m * 60_000)
        h.sample(
            r.client, r.protocol.keys, ["emails", "other"], cfg, now_ms=now - m * 60_000, total=True
        )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (565.9, "9 min 26 s"),
        (0.0123, "12 ms"),
        (0.0042, "4.2 ms"),
        (4.25, "4.2 s"),
        (42, "42 s"),
        (3600 * 3 + 300, "3 h 5 min"),
        (86400 * 2 + 3600 * 4, "2 d 4 h"),
        (0, "0 s"),
        (None, DASH),
    ],
)
def test_duration_filter(value: object, text: str) -> None:
    assert duration(value) == text


def test_thousands_and_rate_filters() -> None:
    assert thousands(1234567) == "1,234,567"
    assert thousands(None) == DASH
    assert rate(1234.56) == "1,235"
    assert rate(12.345) == "12.3"
    assert rate(0.01) == "0"
    out = Template("{% load rsmq_format %}{{ n|thousands }} {{ s|duration }}").render(
        Context({"n": 10000, "s": 565.9})
    )
    assert out == "10,000 9 min 26 s"


def test_dashboard_has_tiles_charts_and_human_numbers(client: Client, engine: RSMQ) -> None:
    dead_letter(engine, "dead")
    _history(engine)
    r = client.get(f"{BASE}/")
    assert r.status_code == 200
    html = r.content.decode()
    tiles = {t["key"]: t["n"] for t in r.context["tiles"]}
    assert tiles["dlq"] == 1
    assert "sent_per_minute" in tiles
    assert 'id="tile-dlq"' in html
    assert "In DLQs" in html
    assert "Sent/min" in html
    # Two accessible charts with drawn lines and a data table
    svgs = re.findall(r'<svg [^>]*role="img"[^>]*aria-labelledby="([^"]+)"', html)
    assert len(svgs) == 3  # throughput, depth, handler duration
    assert "<title id=" in html
    assert "<desc id=" in html
    assert html.count('class="rsmq-line rsmq-s1"') == 2
    assert "Data table" in html
    assert "Throughput per minute of all queues (last hour)" in html
    assert 'src="/static/django_rsmq/dashboard.js"' in html


def test_dashboard_ranges_day_and_month(client: Client, engine: RSMQ) -> None:
    _history(engine, minutes=40)
    day = client.get(f"{BASE}/?range=day").content.decode()
    assert "Queue depth of all queues (last day)" in day
    assert 'aria-current="true" class="selected">last day' in day
    month = client.get(f"{BASE}/?range=month").content.decode()
    assert "(last 30 days)" in month
    assert client.get(f"{BASE}/?range=bogus").context["chart_span"] == "hour"


def test_dashboard_filter_is_server_side_and_in_the_query_string(
    client: Client, engine: RSMQ
) -> None:
    r = client.get(f"{BASE}/?q=EMAIL")
    names = [row["q"].name for row in r.context["rows"]]
    assert names == ["emails", "emails-dlq"]
    html = r.content.decode()
    assert 'value="EMAIL"' in html
    assert "2 of 3 queues match" in html
    assert "?q=EMAIL&amp;range=day" in html  # range links keep the filter
    none = client.get(f"{BASE}/?q=zzz").content.decode()
    assert "No queue matches" in none


def test_partial_is_only_the_live_part(client: Client, engine: RSMQ) -> None:
    engine.send("emails", "a")
    r = client.get(f"{BASE}/?partial=1")
    html = r.content.decode()
    assert "no-store" in r["Cache-Control"]
    assert "<html" not in html
    assert 'id="rsmq-tiles"' in html
    assert 'data-queue="emails"' in html


def test_oldest_age_and_counts_use_the_format_filters(client: Client, engine: RSMQ) -> None:
    engine.send("emails", "old")
    html = client.get(f"{BASE}/").content.decode()
    cell = re.search(r'class="num field-oldest_age">([^<]*)<', html)
    assert cell is not None
    assert re.fullmatch(r"\d+(\.\d)? ms|\d+(\.\d)? s", cell.group(1)), cell.group(1)
    assert "vt 30 s · delay 0 s" in html


def test_queue_page_shows_the_queues_charts(client: Client, engine: RSMQ) -> None:
    _history(engine)
    html = client.get(f"{BASE}/q/emails/?range=day").content.decode()
    assert 'id="rsmq-chart-emails-day-throughput"' in html
    assert 'id="rsmq-chart-emails-day-depth"' in html
    assert "rsmq-line rsmq-s1" in html


def test_series_downsamples_the_day_to_ten_minute_points(engine: RSMQ) -> None:
    _history(engine, minutes=45)
    hour = ops_history.series("emails", "hour")
    day = ops_history.series("emails", "day")
    assert 40 <= len(hour) <= 46
    assert 4 <= len(day) <= 6
    assert all(p.at % 600 == 0 for p in day)
    total = ops_history.series(None, "hour")
    assert total
    assert total[-1].sample.sent >= hour[-1].sample.sent


def test_dashboard_rows_escape_what_they_show() -> None:
    from django_rsmq.admin.views.dashboard import _row_html
    from django_rsmq.operations.stats import QueueStats

    q = QueueStats(name="<b>x</b>", connection="c&d", declared=False, exists=False)
    html = _row_html(q, {"url": "", "dlq_url": "", "failed_url": ""})
    assert "<b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "c&amp;d" in html


def test_filtered_dashboard_reads_only_the_matching_queues(client: Client, engine: RSMQ) -> None:
    from django_rsmq.operations import stats

    assert [q.name for q in stats.collect(match="DLQ").queues] == ["emails-dlq"]
    r = client.get(f"{BASE}/?q=dlq")
    assert r.context["total_queues"] == 3
    assert [t["n"] for t in r.context["tiles"] if t["key"] == "queues"] == [1]


def test_handler_duration_chart_shows_the_consumers_percentiles(
    client: Client, engine: RSMQ
) -> None:
    r = get_rsmq()
    keys = r.protocol.keys
    cfg = rsmq_settings().history.config()
    now = int(server_time(r.client.time()) * 1000)
    for m in (3, 2, 1):
        counts = h.DurationCounts()
        for i in range(50):
            counts.acked("emails", 0.02 if i < 45 else 0.4)
        h.flush(r.client, keys, counts.take(), now - m * 60_000, cfg)
        h.sample(r.client, keys, ["emails"], cfg, now_ms=now - (m - 1) * 60_000 - 1)
    html = client.get(f"{BASE}/q/emails/").content.decode()
    chart = html[html.index('id="rsmq-chart-emails-hour-durations"') :]
    chart = chart[: chart.index("</figure>")]
    assert "Handler duration (last hour)" in chart
    assert 'class="rsmq-line rsmq-s1"' in chart
    assert re.search(r"p50: now 2\d(\.\d)? ms", chart), chart
    assert re.search(r"p99: now 4\d\d ms", chart), chart
