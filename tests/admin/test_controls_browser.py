"""In real headless Chromium (issues 15, 16): pausing and resuming a queue from its page,
and *Run now* on the periodic-messages page, each with an axe-core check (no serious or
critical violation) and a screenshot in ``test-artifacts/``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from django_rsmq.engine import RSMQ
from tests.admin import test_safety_browser as safety

ARTIFACTS = safety.ARTIFACTS
browser = safety.browser  # the fixture: real headless Chromium
user = safety.user
BASE = safety.BASE
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_pause_and_resume_a_queue_in_the_browser(
    live_server: Any, user: Any, engine: RSMQ, browser: Any
) -> None:
    engine.send("other", "waiting")
    page = safety.login(browser, live_server, user)
    page.goto(f"{live_server.url}{BASE}/q/other/")
    page.click("#pause-toggle")
    page.wait_for_selector("#paused-note")
    assert engine.get_queue_attributes("other").paused
    assert page.locator("#pause-toggle").get_attribute("value") == "Resume the queue"
    assert safety.serious_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "admin-queue-paused.png"), full_page=True)
    page.click("#pause-toggle")
    page.wait_for_selector("#paused-note", state="detached")
    assert not engine.get_queue_attributes("other").paused
    page.close()


def test_run_a_periodic_message_now_in_the_browser(
    live_server: Any, user: Any, engine: RSMQ, browser: Any, rsmq_on_test_redis: dict[str, Any]
) -> None:
    schedule = {"nightly": {"QUEUE": "other", "CRON": "0 3 * * *", "BODY": "report"}}
    with override_settings(RSMQ={**rsmq_on_test_redis, "SCHEDULE": schedule}):
        page = safety.login(browser, live_server, user)
        page.goto(f"{live_server.url}{BASE}/schedules/")
        assert page.locator("tr[data-entry=nightly] td").nth(1).inner_text() == "0 3 * * * (UTC)"
        assert safety.serious_violations(page) == []
        page.click("tr[data-entry=nightly] input[type=submit]")
        page.wait_for_selector(".messagelist .success")
        assert "Sent nightly to other now" in page.locator(".messagelist").inner_text()
        page.screenshot(path=str(ARTIFACTS / "admin-schedules.png"), full_page=True)
        msg = engine.receive("other")
        assert msg is not None
        assert msg.body == "report"
        page.close()
