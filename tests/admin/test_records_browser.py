"""The failure-record pages in real headless Chromium (tests/admin/test_browser.py has
the setup): a record's permalink page, and requeue from the failed list with the
confirm page that says what is sent and what is skipped. Screenshots go to
``test-artifacts/``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin.test_browser import ARTIFACTS
from tests.admin.test_browser import browser as browser  # the fixture
from tests.admin.test_records_pages import example

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def user(make_user: Any) -> Any:
    # made before the browser starts (Django refuses ORM calls beside a running loop)
    return make_user("view_queue", "requeue_message", "delete_message", "purge_queue")


def login(page: Any, live_server: Any, user: Any, to: str) -> None:
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/?next={to}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{to}")


def test_record_permalink_page(live_server: Any, user: Any, engine: Any, browser: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    mid = engine.send("other", {"order": 7, "note": "<b>not bold</b>"})
    long_line = '  File "/srv/app/shop/payments/gateway.py", line 42, in charge_card_with_retries'
    for n in range(2):
        m = engine.receive("other")
        assert m is not None
        tb = "Traceback (most recent call last):\n" + long_line
        tb += f"\n    raise Declined()\nDeclined: <i>{n}</i>"
        engine.fail(m, RuntimeError(f"card declined #{n}"), traceback=tb)
    first = engine.failed("other").items[-1]

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, live_server, user, "/admin/django_rsmq/queue/q/other/failed/")
    assert page.locator("#result_list tbody tr").count() == 2
    assert page.locator("#filter-type").inner_text().count("RuntimeError") == 1
    page.screenshot(path=str(ARTIFACTS / "admin-failed-triage.png"), full_page=True)
    page.click(f'tr[data-id="{first.id}"] a.rsmq-record-link')
    page.wait_for_url(f"**/failed/{first.id}/")
    tb = page.locator("#record-traceback")
    assert long_line in tb.inner_text()  # the line as written, tags as text
    assert "Declined: <i>0</i>" in tb.inner_text()
    assert tb.locator("i").count() == 0
    style = tb.evaluate(
        "e => { const s = getComputedStyle(e); return [s.wordBreak, s.fontFamily, s.whiteSpace] }"
    )
    assert style[0] != "break-all"
    assert "mono" in style[1]
    assert style[2] == "pre-wrap"
    assert page.locator("#attempt_list tbody tr").count() == 2
    assert page.locator("#record-state").inner_text().startswith("pending")
    page.screenshot(path=str(ARTIFACTS / "admin-failure-record.png"), full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(ARTIFACTS / "admin-failure-record-dark.png"), full_page=True)
    page.emulate_media(color_scheme="light")
    page.click("#record-message")
    page.wait_for_url(f"**/messages/{mid}/")
    page.close()


def test_requeue_with_skips(live_server: Any, user: Any, engine: Any, browser: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    example(engine)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, live_server, user, "/admin/django_rsmq/queue/q/emails/failed/")
    assert page.locator("#result_list tbody tr").count() == 6
    page.check("#action-toggle")
    assert "6 of 6 selected" in page.locator(".action-counter").inner_text()
    page.select_option("select[name=action]", "requeue_selected")
    page.click("button[name=index]")
    page.wait_for_selector("#confirm-send")
    assert page.locator("#confirm-send").inner_text() == "1"
    assert page.locator("#confirm-skipped").inner_text() == "5"
    reasons = page.locator("#confirm-reasons").inner_text()
    assert "its message succeeded later" in reasons
    assert "dead-letter queue" in reasons
    page.screenshot(path=str(ARTIFACTS / "admin-failed-requeue-confirm.png"), full_page=True)
    page.click("input[type=submit][value='Yes, send 1']")
    page.wait_for_selector("ul.messagelist")
    assert page.locator("ul.messagelist").inner_text().startswith("Requeued 1")
    assert page.locator("#result_list tbody tr.rsmq-state-requeued").count() == 1

    page.goto(f"{live_server.url}/admin/django_rsmq/queue/q/emails/dlq/")
    row = page.locator("#result_list tbody tr").first
    assert row.locator("td.field-rc").inner_text() == "2"
    assert "ValueError" in row.locator("td.field-error").inner_text()
    page.screenshot(path=str(ARTIFACTS / "admin-dlq-rows.png"), full_page=True)
    page.check("#result_list input.action-select")
    page.select_option("select[name=action]", "delete_selected")
    page.click("button[name=index]")
    page.wait_for_selector("#confirm-count")
    assert "delete-confirmation" in (page.locator("body").get_attribute("class") or "")
    page.screenshot(path=str(ARTIFACTS / "admin-dlq-delete-confirm.png"), full_page=True)
    page.click("input[type=submit][value='Yes, delete 1']")
    page.wait_for_selector("ul.messagelist")
    assert page.locator("ul.messagelist").inner_text() == "Deleted 1"
    page.close()
