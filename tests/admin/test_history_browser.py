"""The dashboard, a queue page and the consumers page in real headless Chromium at
390 px and 1280 px, light and dark: no page-level horizontal scroll, charts drawn, the
auto-refresh updates a number and can be paused, the filter hides rows as you type.
Screenshots go to ``test-artifacts/`` (see tests/admin/test_browser.py for the setup)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from django_rsmq.conf import rsmq_settings
from django_rsmq.connections import get_rsmq
from django_rsmq.engine import history as h
from django_rsmq.engine.registry import ConsumerRegistry, server_time
from tests.admin.conftest import dead_letter
from tests.admin.test_browser import ARTIFACTS, browser  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NO_PAGE_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def user(make_user: Any) -> Any:
    return make_user(
        "view_queue", "requeue_message", "delete_message", "purge_queue", "change_queue_attributes"
    )


def _history(engine: Any) -> None:
    r = get_rsmq()
    now = int(server_time(r.client.time()) * 1000)
    cfg = rsmq_settings().history.config()
    for m in range(40, 0, -1):
        for _ in range(3 + (m * 7) % 5):
            engine.send("other", "x")
        for _ in range(2 + m % 3):
            engine.receive("other", vt=3600)
        counts = h.DurationCounts()  # what consumers' heartbeats add
        for i in range(20 + m % 7):
            counts.acked("other", 0.004 * (1 + i % 5) + (0.15 if i == 0 else 0) + m / 2000)
        h.flush(r.client, r.protocol.keys, counts.take(), now - (m + 1) * 60_000, cfg)
        for total in (False, True):
            h.sample(
                r.client,
                r.protocol.keys,
                ["emails", "emails-dlq", "other"],
                cfg,
                now_ms=now - m * 60_000,
                total=total,
            )


def _consumers(engine: Any) -> None:
    registry = ConsumerRegistry(engine.client, engine.namespace)
    long_ids = ["0" * 10 + f"{i:022d}" for i in range(12)]
    fields = {
        "host": "worker-host-with-a-rather-long-name.eu-west-1.compute.internal",
        "pid": 123456,
        "queues": ["emails", "emails-dlq", "other", "a-queue-with-a-long-name-too"],
        "started": time.time() - 3600,
    }
    registry.beat(
        "worker-host-with-a-rather-long-name.123456.abcdef",
        {**fields, "current": long_ids, "processed": 1234567},
        ttl=30,
    )
    registry.beat("gone.1.abcdef", fields, ttl=30)
    engine.client.delete(registry.keys.consumer("gone.1.abcdef"))


def _login(page: Any, base: str, user: Any, to: str) -> None:
    page.goto(f"{base}/admin/login/?next={to}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{to}")


def _no_page_scroll(page: Any) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert page.evaluate(NO_PAGE_SCROLL), f"page scrolls sideways: {widths}"


def _docs_shot(page: Any, scheme: str) -> None:
    """Tiles and charts only (the size of the pictures in docs/admin.md)."""
    page.locator("#rsmq-tiles").wait_for()
    top = page.locator("#rsmq-tiles").bounding_box()
    charts = page.locator(".rsmq-charts").bounding_box()
    clip = {
        "x": charts["x"] - 8,
        "y": top["y"] - 8,
        "width": charts["width"] + 16,
        "height": charts["y"] + charts["height"] - top["y"] + 16,
    }
    page.screenshot(path=str(ARTIFACTS / f"admin-history-{scheme}.png"), clip=clip)


def test_dashboard_charts_refresh_pause_and_filter(
    live_server: Any,
    user: Any,
    engine: Any,
    browser: Any,  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    dead_letter(engine, "dead")
    _history(engine)
    _consumers(engine)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    dash = "/admin/django_rsmq/queue/"
    _login(page, live_server.url, user, dash)
    page.goto(f"{live_server.url}{dash}?refresh=1")

    # Charts: two accessible SVGs with drawn lines
    assert page.locator("figure.rsmq-chart svg[role=img]").count() == 3
    assert page.locator("figure.rsmq-chart path.rsmq-line").count() >= 2
    assert "Throughput" in page.locator("figure.rsmq-chart svg title").first.inner_html()
    _no_page_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "history-dashboard-1280-light.png"), full_page=True)
    _docs_shot(page, "light")

    # Auto-refresh updates a number without reloading the page
    visible = page.locator("#tile-visible")
    before = visible.inner_text()
    engine.send("other", "new-1")
    engine.send("other", "new-2")
    page.wait_for_function(
        "before => document.getElementById('tile-visible').textContent !== before", arg=before
    )
    assert int(visible.inner_text().replace(",", "")) == int(before.replace(",", "")) + 2

    # Paused: nothing changes any more
    page.click("#rsmq-pause")
    assert page.locator("#rsmq-pause").inner_text() == "Resume auto-refresh"
    assert "paused" in page.locator("#rsmq-refresh-status").inner_text()
    stamp = page.get_attribute("#rsmq-live", "data-refreshed")
    paused_at = visible.inner_text()
    engine.send("other", "new-3")
    page.wait_for_timeout(2500)  # 2.5 refresh periods: proving that nothing happens
    assert visible.inner_text() == paused_at
    assert page.get_attribute("#rsmq-live", "data-refreshed") == stamp
    page.click("#rsmq-pause")  # resume
    page.wait_for_function(
        "before => document.getElementById('tile-visible').textContent !== before",
        arg=paused_at,
    )

    # Instant filter, kept in the address bar
    page.fill("#rsmq-filter", "dlq")
    assert page.locator("#result_list tbody tr[data-queue]:visible").count() == 1
    assert "q=dlq" in page.url

    # Dark theme (the admin's prefers-color-scheme); paused, so the pictures hold still
    page.fill("#rsmq-filter", "")
    page.click("#rsmq-pause")
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(ARTIFACTS / "history-dashboard-1280-dark.png"), full_page=True)
    stroke = page.evaluate(
        "getComputedStyle(document.querySelector('path.rsmq-line.rsmq-s1')).stroke"
    )
    assert stroke == "rgb(127, 178, 239)"  # the dark palette
    _docs_shot(page, "dark")
    page.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_pages_do_not_scroll_sideways(
    live_server: Any,
    user: Any,
    engine: Any,
    browser: Any,  # noqa: F811
    width: int,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    dead_letter(engine, "dead")
    _history(engine)
    _consumers(engine)
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(15_000)
    dash = "/admin/django_rsmq/queue/"
    _login(page, live_server.url, user, dash)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for name, path in (
            ("dashboard", dash),
            ("queue", f"{dash}q/other/"),
            ("consumers", f"{dash}consumers/"),
        ):
            page.goto(f"{live_server.url}{path}")
            _no_page_scroll(page)
            if name != "consumers":
                assert page.locator("figure.rsmq-chart svg").count() == 3
            # Tables scroll inside their box, never clipped by the page
            box = page.evaluate(
                "(() => { const r = document.querySelector('#changelist .results');"
                " return r ? [r.scrollWidth, r.clientWidth, getComputedStyle(r).overflowX]"
                " : null; })()"
            )
            if box is not None and box[0] > box[1]:
                assert box[2] in ("auto", "scroll"), box
            page.screenshot(
                path=str(ARTIFACTS / f"history-{name}-{width}-{scheme}.png"), full_page=True
            )
    if width == 1280:  # the tables fit: nothing clipped, no inner scroll either
        for path in (dash, f"{dash}consumers/"):
            page.goto(f"{live_server.url}{path}")
            fits = page.evaluate(
                "(() => { const r = document.querySelector('#changelist .results');"
                " return [r.scrollWidth, r.clientWidth]; })()"
            )
            assert fits[0] <= fits[1], (path, fits)
        stale = page.locator('tr[data-consumer="gone.1.abcdef"]').inner_text()
        assert "123456" in stale
    page.close()
