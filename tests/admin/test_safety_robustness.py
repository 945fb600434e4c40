"""Robustness of the admin and the monitoring endpoints (issue 16): malformed queue names
written by a peer are skipped with a warning, never a 4xx/5xx; with Redis unreachable every
page is a 503 naming the connection alias and the error, and ``metrics`` answers
``rsmq_up 0``; a declared queue's page warns that ``rsmq_queues sync`` undoes edits."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest
from django.test import Client, override_settings

from django_rsmq.engine import RSMQ
from django_rsmq.operations import stats
from tests.settings import rsmq_setting

pytestmark = pytest.mark.django_db

BASE = "/admin/django_rsmq/queue"
TOKEN = {"HTTP_AUTHORIZATION": "Bearer s3cret-token"}
BAD = ["bad:name", "with space", "x" * 200, b"\xff\xfe"]


@pytest.fixture
def client(client_for: Any) -> Client:
    return client_for()


def test_malformed_queue_names_are_skipped_with_a_warning(
    client: Client, engine: RSMQ, caplog: pytest.LogCaptureFixture
) -> None:
    engine.client.sadd(engine.protocol.keys.queues, *BAD)
    engine.send("other", "x")
    with caplog.at_level(logging.WARNING, logger="django_rsmq.operations"):
        dashboard = client.get(f"{BASE}/")
    assert dashboard.status_code == 200
    assert dashboard.content.count(b"Skipped a malformed queue name") == 4  # warning rows
    assert b"\xe2\x80\x9cbad:name\xe2\x80\x9d" in dashboard.content
    assert "skipping malformed queue name 'bad:name'" in caplog.text
    data = stats.collect()
    assert {w.kind for w in data.warnings} == {"malformed_queue"}
    assert sorted(w.name for w in data.warnings) == sorted(
        [b.decode("utf-8", "replace") if isinstance(b, bytes) else b for b in BAD]
    )
    assert data.malformed_queues == 4
    assert "other" in {q.name for q in data.queues}
    doc = client.get(f"{BASE}/stats.json")
    assert doc.status_code == 200
    assert len(doc.json()["warnings"]) == 4
    assert {q["name"] for q in doc.json()["queues"]} == {"emails", "emails-dlq", "other"}
    metrics = client.get(f"{BASE}/metrics", **TOKEN)
    assert metrics.status_code == 200
    text = metrics.content.decode()
    assert "\nrsmq_malformed_queues 4\n" in text
    assert "rsmq_up 1\n" in text
    assert 'rsmq_messages{queue="other",state="visible"} 1' in text
    assert client.get(f"{BASE}/consumers/").status_code == 200


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: connecting is refused at once


@pytest.fixture
def redis_down(rsmq_on_test_redis: dict[str, Any], namespace: str) -> Any:
    setting = rsmq_setting(f"redis://127.0.0.1:{_closed_port()}/0", namespace)
    setting["QUEUES"] = rsmq_on_test_redis["QUEUES"]
    setting["API_TOKEN"] = "s3cret-token"
    with override_settings(RSMQ=setting):
        yield


@pytest.mark.parametrize(
    "path",
    ["/", "/q/other/", "/q/other/purge/", "/consumers/", "/q/emails/dlq/", "/q/other/failed/"],
)
def test_redis_down_is_a_503_naming_the_connection(
    client: Client, redis_down: None, path: str
) -> None:
    r = client.get(f"{BASE}{path}")
    assert r.status_code == 503, path
    html = r.content.decode()
    assert '<code class="rsmq-alias">default</code>' in html
    assert "ConnectionError" in html
    assert "Connection refused" in html or "connecting to" in html


def test_redis_down_on_a_post_changes_nothing_and_is_a_503(
    client: Client, redis_down: None
) -> None:
    r = client.post(f"{BASE}/q/other/purge/", {"confirm": "yes"})
    assert r.status_code == 503


def test_redis_down_metrics_say_rsmq_up_0_and_stats_json_is_a_503(
    client: Client, redis_down: None
) -> None:
    for path in (f"{BASE}/metrics", "/rsmq/metrics"):
        r = client.get(path, **TOKEN)
        assert r.status_code == 200, path
        assert "# TYPE rsmq_up gauge\nrsmq_up 0\n" in r.content.decode()
    for path in (f"{BASE}/stats.json", "/rsmq/stats.json"):
        doc = client.get(path, **TOKEN)
        assert doc.status_code == 503, path
        assert doc.json()["connections"] == ["default"]
        assert "ConnectionError" in doc.json()["detail"]


def test_a_declared_queue_warns_that_sync_undoes_edits(client: Client, engine: RSMQ) -> None:
    assert b'id="declared-warning"' not in client.get(f"{BASE}/q/emails/").content
    client.post(f"{BASE}/q/emails/", {"vt": 45, "delay": 0, "maxsize": 65536})
    r = client.get(f"{BASE}/q/emails/")
    html = r.content.decode()
    assert 'id="declared-warning"' in html
    assert "rsmq_queues sync" in html
    assert r.context["declared_diff"] == [{"name": "vt", "live": 45.0, "declared": 30}]
    engine.create_queue("adhoc", vt=45)  # not declared: nothing to warn about
    assert b'id="declared-warning"' not in client.get(f"{BASE}/q/adhoc/").content
