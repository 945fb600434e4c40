"""End to end in real headless Chromium (Debian ``chromium`` driven by Playwright):
log in, see a queue's counts, requeue a dead letter with its checkbox, find it back
in its queue. Screenshots go to ``test-artifacts/`` (kept by CI, ignored by git).

Never downloads a browser: without /usr/bin/chromium (or Playwright) the test skips
locally and fails under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.admin.conftest import dead_letter
from tests.conftest import ON_CI

CHROMIUM = os.environ.get("RSMQ_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if ON_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def user(make_user: Any) -> Any:
    # Made before the browser starts: Playwright's sync API runs an event loop in this
    # thread, and Django refuses ORM calls from a thread with a running loop.
    return make_user("view_queue", "requeue_message")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_requeue_a_dead_letter_in_the_browser(
    live_server: Any, user: Any, engine: Any, browser: Any
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    mid = dead_letter(engine, {"to": "dead@example.com", "note": "<b>not bold</b>"})
    engine.send("emails", {"to": "a@example.com"})
    engine.send("emails", {"to": "b@example.com"}, delay=600)

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/django_rsmq/queue/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/django_rsmq/queue/")

    row = page.locator('tr[data-queue="emails"]')
    assert row.locator("td.field-visible").inner_text() == "1"
    assert row.locator("td.field-delayed").inner_text() == "1"
    assert row.locator("td.field-dlq").inner_text() == "1"
    page.screenshot(path=str(ARTIFACTS / "admin-dashboard.png"), full_page=True)

    row.locator("td.field-dlq a").click()
    page.wait_for_url("**/q/emails/dlq/")
    assert page.locator("#result_list tbody tr").count() == 1
    page.check(f'input.action-select[value="{mid}"]')
    assert "1 of 1 selected" in page.locator(".action-counter").inner_text()
    page.screenshot(path=str(ARTIFACTS / "admin-dlq.png"), full_page=True)
    page.select_option("select[name=action]", "requeue_selected")
    page.click("button[name=index]")
    page.wait_for_load_state()
    assert "Requeued 1" in page.locator("ul.messagelist").inner_text()
    assert "Nothing here" in page.locator("#result_list").inner_text()

    page.goto(f"{live_server.url}/admin/django_rsmq/queue/q/emails/")
    assert page.locator("#count-visible").inner_text() == "2"
    page.fill("#searchbar", "dead@example.com")
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()
    assert page.locator(f'#result_list a:text-is("{mid}")').count() == 1
    page.screenshot(path=str(ARTIFACTS / "admin-queue.png"), full_page=True)

    page.emulate_media(color_scheme="dark")  # the admin's own dark mode applies
    page.click(f'#result_list a:text-is("{mid}")')
    page.wait_for_url(f"**/messages/{mid}/")
    body = page.locator("#message-body").inner_text()
    assert '"note": "<b>not bold</b>"' in body  # shown as text, not markup
    assert page.locator("#message-body b").count() == 0
    page.screenshot(path=str(ARTIFACTS / "admin-message-dark.png"), full_page=True)

    page.emulate_media(color_scheme="light")
    page.goto(f"{live_server.url}/admin/django_rsmq/queue/q/emails/failed/")
    assert page.locator("#result_list tbody tr").count() == 2  # both failed deliveries
    page.screenshot(path=str(ARTIFACTS / "admin-failed.png"), full_page=True)
    page.close()
    assert engine.peek_message("emails", mid).rc == 0
