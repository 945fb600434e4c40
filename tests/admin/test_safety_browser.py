"""In real headless Chromium (issue 16): the confirm flows of delete, move and purge, the
bounded search's "continue", and an axe-core check (no serious or critical violation) of
the dashboard, queue, message, failed-records, DLQ, confirm and Redis-down pages.
Screenshots go to ``test-artifacts/``.

axe-core is vendored as a test fixture (``tests/admin/fixtures/axe-core``, MPL-2.0) and
injected into each page: no CDN, no download.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_rsmq.engine import RSMQ
from django_rsmq.engine.errors import MessageNotFound
from tests.admin import test_browser
from tests.admin.conftest import ALL, dead_letter, failed_record
from tests.settings import rsmq_setting

ARTIFACTS = test_browser.ARTIFACTS
browser = test_browser.browser  # the fixture: real headless Chromium
AXE = Path(__file__).parent / "fixtures" / "axe-core" / "axe.min.js"
BASE = "/admin/django_rsmq/queue"
DANGER_JS = """() => {
  const s = document.createElement("span");
  s.style.color = "var(--delete-button-bg)";
  document.body.append(s);
  const danger = getComputedStyle(s).color;
  s.remove();
  return [danger, getComputedStyle(document.querySelector("#confirm-submit")).backgroundColor];
}"""
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def user(make_user: Any) -> Any:
    return make_user(*ALL)  # made before the browser starts (see test_browser.py)


def login(browser: Any, live_server: Any, user: Any) -> Any:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/?next={BASE}/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{BASE}/")
    return page


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations of the page, one line each."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + json.dumps([n["target"] for n in v["nodes"]][:5])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_delete_and_move_confirm_in_the_browser(
    live_server: Any, user: Any, engine: RSMQ, browser: Any
) -> None:
    doomed = engine.send("other", {"doomed": True})
    moving = engine.send("other", {"moving": True})
    page = login(browser, live_server, user)

    page.goto(f"{live_server.url}{BASE}/q/other/messages/{doomed}/")
    page.click("#delete-link")
    page.wait_for_url(f"**/messages/{doomed}/delete/")
    assert "This cannot be undone" in page.locator("#confirm-question").inner_text()
    assert page.locator("body.delete-confirmation").count() == 1  # danger styling
    danger, button = page.evaluate(DANGER_JS)
    assert button == danger  # the confirm button has the admin's delete-button colour
    page.screenshot(path=str(ARTIFACTS / "admin-confirm-delete.png"), full_page=True)
    page.click("text=No, take me back")
    page.wait_for_url(f"**/messages/{doomed}/")
    assert engine.peek_message("other", doomed).body == {"doomed": True}  # cancel kept it
    page.click("#delete-link")
    page.click("#confirm-submit")
    page.wait_for_url(f"**{BASE}/q/other/")
    assert f"Deleted message {doomed}." in page.locator("ul.messagelist").inner_text()
    with pytest.raises(MessageNotFound):
        engine.peek_message("other", doomed)

    page.goto(f"{live_server.url}{BASE}/q/other/messages/{moving}/")
    page.click("#move-link")
    page.wait_for_url(f"**/messages/{moving}/move/")
    assert page.locator("select[name=to]").input_value() == ""  # nothing preselected
    page.screenshot(path=str(ARTIFACTS / "admin-confirm-move.png"), full_page=True)
    page.click("#confirm-submit")  # without a target the browser refuses to submit
    assert page.locator("select[name=to]").evaluate("e => e.validity.valueMissing")
    assert page.url.endswith(f"/messages/{moving}/move/")
    assert engine.peek_message("other", moving).body == {"moving": True}
    page.select_option("select[name=to]", "emails")
    page.click("#confirm-submit")
    page.wait_for_url(f"**{BASE}/q/emails/messages/{moving}/")
    assert engine.peek_message("emails", moving).body == {"moving": True}
    page.close()


def test_purge_confirm_in_the_browser(
    live_server: Any, user: Any, engine: RSMQ, browser: Any
) -> None:
    engine.send_many("other", list(range(700)))
    page = login(browser, live_server, user)
    page.goto(f"{live_server.url}{BASE}/q/other/")
    page.click("text=Purge…")
    page.wait_for_url("**/q/other/purge/")
    assert page.locator("#confirm-count").inner_text() == "700"
    assert "2 Redis call(s) of at most 500" in page.locator("#confirm-cost").inner_text()
    page.screenshot(path=str(ARTIFACTS / "admin-confirm-purge.png"), full_page=True)
    page.click("#confirm-submit")
    page.wait_for_url(f"**{BASE}/q/other/")
    assert "700 message(s) deleted" in page.locator("ul.messagelist").inner_text()
    assert engine.get_queue_attributes("other").msgs == 0
    page.close()


def test_search_continue_in_the_browser(
    live_server: Any, user: Any, engine: RSMQ, browser: Any, rsmq_on_test_redis: dict[str, Any]
) -> None:
    engine.send_many("other", ["x" * 1000] * 300)
    needle = engine.send("other", "the needle")
    page = login(browser, live_server, user)
    with override_settings(RSMQ={**rsmq_on_test_redis, "ADMIN": {"SEARCH_BUDGET_BYTES": 100_000}}):
        page.goto(f"{live_server.url}{BASE}/q/other/")
        page.fill("#searchbar", "needle")
        page.press("#searchbar", "Enter")
        page.wait_for_load_state()
        assert "No match so far." in page.locator("#result_list").inner_text()
        assert "byte budget" in page.locator("#search-progress").inner_text()
        page.screenshot(path=str(ARTIFACTS / "admin-search-continue.png"), full_page=True)
        for _ in range(5):
            page.click("#search-continue")
            page.wait_for_load_state()
            if page.locator(f'#result_list a:text-is("{needle}")').count():
                break
        assert "That is the end of the queue." in page.locator("#search-progress").inner_text()
        page.screenshot(path=str(ARTIFACTS / "admin-search-found.png"), full_page=True)
    page.close()


def test_no_serious_accessibility_violations(
    live_server: Any, user: Any, engine: RSMQ, browser: Any, namespace: str
) -> None:
    dlq_id = dead_letter(engine, {"to": "dead@example.com"})
    failed_record(engine, "boom")
    mid = engine.send("other", {"n": 1})
    page = login(browser, live_server, user)
    pages = {
        "dashboard": f"{BASE}/",
        "queue": f"{BASE}/q/emails/",
        "search": f"{BASE}/q/other/?q=n",
        "message": f"{BASE}/q/other/messages/{mid}/",
        "dead letter": f"{BASE}/q/emails-dlq/messages/{dlq_id}/",
        "failed": f"{BASE}/q/other/failed/",
        "dlq": f"{BASE}/q/emails/dlq/",
        "confirm delete": f"{BASE}/q/other/messages/{mid}/delete/",
        "confirm move": f"{BASE}/q/other/messages/{mid}/move/",
        "confirm purge": f"{BASE}/q/other/purge/",
    }
    found = {}
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        found[name] = serious_violations(page)
    down = rsmq_setting("redis://127.0.0.1:1/0", namespace)
    with override_settings(RSMQ=down):
        r = page.goto(f"{live_server.url}{BASE}/")
        assert r.status == 503
        page.screenshot(path=str(ARTIFACTS / "admin-redis-down.png"), full_page=True)
        found["redis down"] = serious_violations(page)
    page.close()
    bad = {k: v for k, v in found.items() if v}
    assert not bad, json.dumps(bad, indent=1)
