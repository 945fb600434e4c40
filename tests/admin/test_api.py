"""stats.json and Prometheus metrics: schema shared with ``rsmq_stats --json``, auth by
staff session with the view permission or bearer token; throughput samples."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from django_rsmq.engine import RSMQ
from django_rsmq.engine.keys import Keys
from django_rsmq.engine.throughput import sample_rates
from tests.admin.conftest import dead_letter

pytestmark = pytest.mark.django_db

ADMIN = "/admin/django_rsmq/queue"
ENDPOINTS = [f"{ADMIN}/stats.json", f"{ADMIN}/metrics", "/rsmq/stats.json", "/rsmq/metrics"]
TOKEN = "s3cret-token"  # RSMQ["API_TOKEN"] in tests/admin/conftest.py


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_stats_json_has_the_schema_of_rsmq_stats_json(
    client_for: Callable[..., Client], engine: RSMQ
) -> None:
    dead_letter(engine, "b")
    engine.send("emails", "a")
    r = client_for("view_queue").get(f"{ADMIN}/stats.json")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/json"
    assert "no-cache" in r["Cache-Control"]
    data = r.json()
    out = io.StringIO()
    call_command("rsmq_stats", "--json", stdout=out)
    cli = json.loads(out.getvalue())
    keys = {"generated_at", "queues", "consumers", "warnings", "outbox", "schedule"}
    assert set(data) == set(cli) == keys
    assert [set(q) for q in data["queues"]] == [set(q) for q in cli["queues"]]
    emails = next(q for q in data["queues"] if q["name"] == "emails")
    assert (emails["visible"], emails["failed"], emails["dlq"]) == (1, 2, 1)
    assert emails == next(q for q in cli["queues"] if q["name"] == "emails") | {
        k: emails[k] for k in ("oldest_age", "sent_per_minute", "received_per_minute")
    }


def test_metrics_exposition(client_for: Callable[..., Client], engine: RSMQ) -> None:
    dead_letter(engine, "c")
    engine.send("emails", "a")
    engine.send("emails", "b", delay=600)
    r = client_for("view_queue").get(f"{ADMIN}/metrics")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/plain; version=0.0.4")
    text = r.content.decode()
    for line in (
        "# TYPE rsmq_messages gauge",
        'rsmq_messages{queue="emails",state="visible"} 1',
        'rsmq_messages{queue="emails",state="delayed"} 1',
        'rsmq_messages{queue="emails",state="failed"} 2',
        'rsmq_messages{queue="emails",state="dead"} 1',
        "# TYPE rsmq_sent_total counter",
        'rsmq_sent_total{queue="emails"} 3',
        'rsmq_received_total{queue="emails"} 2',
        'rsmq_consumers{queue="emails"} 0',
        'rsmq_consumers_total{state="alive"} 0',
    ):
        assert line in text.splitlines(), line
    assert 'rsmq_oldest_message_age_seconds{queue="emails"} ' in text


@pytest.mark.parametrize("url", ENDPOINTS)
def test_bearer_token_is_accepted(url: str) -> None:
    assert Client().get(url, **bearer(TOKEN)).status_code == 200


@pytest.mark.parametrize("url", ENDPOINTS)
def test_wrong_or_missing_token_is_refused(url: str) -> None:
    assert Client().get(url, **bearer("s3cret-tokeN")).status_code == 401
    r = Client().get(url)
    assert r.status_code == 401
    assert r["WWW-Authenticate"].startswith("Bearer")
    assert Client().get(url, HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401


@pytest.mark.parametrize("url", ENDPOINTS)
def test_staff_without_view_permission_is_forbidden(
    client_for: Callable[..., Client], url: str
) -> None:
    assert client_for("requeue_message").get(url).status_code == 403
    assert client_for("view_queue").get(url).status_code == 200


@pytest.mark.parametrize("url", ENDPOINTS)
def test_logged_in_non_staff_user_is_forbidden(
    client_for: Callable[..., Client], django_user_model: Any, url: str
) -> None:
    # Every model permission, but not staff: refused (403: logged in, not allowed).
    assert client_for("view_queue", staff=False).get(url).status_code == 403
    boss = django_user_model.objects.create_user("boss", password="pw", is_superuser=True)
    client = Client()
    client.force_login(boss)  # a superuser who is not staff is refused too
    assert client.get(url).status_code == 403


def test_no_token_configured_means_no_token_access(
    rsmq_on_test_redis: dict[str, object],
) -> None:
    from django.test import override_settings

    setting = {k: v for k, v in rsmq_on_test_redis.items() if k != "API_TOKEN"}
    with override_settings(RSMQ=setting):
        assert Client().get("/rsmq/metrics", **bearer("")).status_code == 401
        assert Client().get("/rsmq/metrics", **bearer("None")).status_code == 401


def test_api_views_are_get_only() -> None:
    assert Client().post("/rsmq/stats.json", **bearer(TOKEN)).status_code == 405


def test_throughput_from_counter_samples(redis_client: object, namespace: str) -> None:
    keys = Keys(namespace)
    t0 = 1_000_000.0
    assert sample_rates(redis_client, keys, "q", 0, 0, now=t0).sent_per_minute is None  # type: ignore[arg-type]
    early = sample_rates(redis_client, keys, "q", 10, 5, now=t0 + 30)  # type: ignore[arg-type]
    assert (early.sent_per_minute, early.received_per_minute) == (20.0, 10.0)
    late = sample_rates(redis_client, keys, "q", 130, 65, now=t0 + 90)  # type: ignore[arg-type]
    # newest sample at least a minute old is the one at t0 + 30 (10 sent, 5 received)
    assert (late.sent_per_minute, late.received_per_minute) == (120.0, 60.0)
    reset = sample_rates(redis_client, keys, "q", 1, 1, now=t0 + 200)  # type: ignore[arg-type]
    assert reset.sent_per_minute is None  # counters went backwards: queue recreated
