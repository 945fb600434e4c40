"""A dead-letter queue lives where its queue lives.

A queue with its own CONNECTION and MAX_RECEIVES dead-letters on its own server (the
engine moves the message inside that server). Its DLQ, implicit (``<name>-dlq``) or
declared without a CONNECTION, must be found there by every entry point of the
Django layer: the Python API, ``rsmq_dlq``, ``ensure_queue`` / sync, stats, the admin
and the consumer's start. Two real servers: ``default`` is the session Redis,
``far`` a private one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from django_rsmq.conf import rsmq_settings
from django_rsmq.connections import get_rsmq, rsmq_for_queue
from django_rsmq.consumer import Consumer
from django_rsmq.engine import RSMQ, Message
from django_rsmq.engine.server import RedisServerNotFound
from django_rsmq.handlers import registry
from django_rsmq.operations import metrics, redrive, stats
from django_rsmq.operations.queues import declared_attributes, ensure_queue, known_queues
from django_rsmq.testing import TestRedis, redis_for_tests

#: the queue on the far server, and where its DLQ is declared (or not)
VARIANTS = {
    "implicit": ({"CONNECTION": "far", "MAX_RECEIVES": 1}, "remote-dlq", {}),
    "declared": (
        {"CONNECTION": "far", "MAX_RECEIVES": 1, "DEAD_LETTER_QUEUE": "remote-dead"},
        "remote-dead",
        {"remote-dead": {"VISIBILITY_TIMEOUT": 60}},  # no CONNECTION of its own
    ),
}


@pytest.fixture(scope="module")
def far_redis() -> Iterator[TestRedis]:
    """A second real redis-server (always a private one, never the session server)."""
    try:
        with redis_for_tests(appendonly=True) as r:
            yield r
    except RedisServerNotFound as exc:
        pytest.skip(f"no Redis for the tests: {exc}")


def two_servers(
    base: dict[str, Any], far_url: str, queues: dict[str, Any], default_url: str | None = None
) -> dict[str, Any]:
    default = default_url or base["CONNECTIONS"]["default"]["URL"]
    return {
        **base,
        "CONNECTIONS": {"default": {"URL": default}, "far": {"URL": far_url}},
        "QUEUES": {**base["QUEUES"], **queues},
    }


@pytest.fixture(params=sorted(VARIANTS))
def remote(
    request: pytest.FixtureRequest, rsmq_on_test_redis: dict[str, Any], far_redis: TestRedis
) -> Iterator[str]:
    """Settings with queue ``remote`` on the far server; yields the name of its DLQ."""
    queue, dlq, extra = VARIANTS[request.param]
    with override_settings(
        RSMQ=two_servers(rsmq_on_test_redis, far_redis.url, {"remote": queue, **extra})
    ):
        yield dlq


def far() -> RSMQ:
    return get_rsmq("far")


def dead_letter_on_far(body: str) -> str:
    """Create ``remote`` on the far server with its declared attributes (the engine
    alone, no Django-layer resolution) and dead-letter one message there."""
    r = far()
    if "remote" not in r.list_queues():
        r.create_queue("remote", **declared_attributes(rsmq_settings().queue("remote")))
    mid = r.send("remote", body)
    msg = r.receive("remote")
    assert msg is not None
    r.nack(msg.receipt, delay=0)
    assert r.receive("remote") is None  # rc 1 = MAX_RECEIVES: moved to the DLQ
    return mid


def run(*args: Any) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_settings_put_the_dlq_on_its_queues_connection(remote: str) -> None:
    cfg = rsmq_settings()
    assert cfg.queue("remote").dlq == remote
    assert cfg.queue(remote).connection == "far"
    assert rsmq_for_queue(remote) is far()
    assert rsmq_for_queue("flaky-dlq") is get_rsmq("default")  # the others stay


def test_dlq_connection_follows_a_settings_reload(
    rsmq_on_test_redis: dict[str, Any], far_redis: TestRedis
) -> None:
    assert rsmq_settings().queue("remote-dlq").connection == "default"
    queue = {"CONNECTION": "far", "MAX_RECEIVES": 1}
    with override_settings(RSMQ=two_servers(rsmq_on_test_redis, far_redis.url, {"remote": queue})):
        assert rsmq_settings().queue("remote-dlq").connection == "far"
        assert rsmq_for_queue("remote-dlq") is far()
    assert rsmq_settings().queue("remote-dlq").connection == "default"


def test_dlq_of_a_dlq_and_a_shared_dlq_follow_their_queues(
    rsmq_on_test_redis: dict[str, Any], far_redis: TestRedis
) -> None:
    qs = {
        "a": {"CONNECTION": "far", "MAX_RECEIVES": 1, "DEAD_LETTER_QUEUE": "b"},
        "b": {"MAX_RECEIVES": 2, "DEAD_LETTER_QUEUE": "c"},  # b, c: no CONNECTION
        "c": {"MAX_RECEIVES": 2},  # its DLQ is the implicit c-dlq
        "x": {"CONNECTION": "far", "MAX_RECEIVES": 1, "DEAD_LETTER_QUEUE": "shared"},
        "y": {"CONNECTION": "far", "MAX_RECEIVES": 1, "DEAD_LETTER_QUEUE": "shared"},
        "shared": {},
    }
    with override_settings(RSMQ=two_servers(rsmq_on_test_redis, far_redis.url, qs)):
        cfg = rsmq_settings()
        assert [cfg.queue(n).connection for n in ("b", "c", "c-dlq", "shared")] == ["far"] * 4


def test_python_api_and_rsmq_dlq_list_see_what_the_engine_dead_lettered(remote: str) -> None:
    mid = dead_letter_on_far("dead on far")
    assert [m.id for m in redrive.dlq_list("remote")] == [mid]
    assert redrive.dlq_count("remote") == 1
    rows = json.loads(run("rsmq_dlq", "remote", "list", "--json"))
    assert [(row["id"], row["body"]) for row in rows] == [(mid, "dead on far")]
    assert "(empty)" not in run("rsmq_dlq", "remote", "list")
    (row,) = stats.collect(["remote"]).queues
    assert (row.connection, row.dead_letter_queue, row.dlq) == ("far", remote, 1)
    assert (remote, "far") in known_queues()
    text = metrics.render(stats.collect())
    assert 'rsmq_messages{queue="remote",state="dead"} 1' in text
    assert f'rsmq_messages{{queue="{remote}",state="visible"}} 1' in text
    assert remote not in get_rsmq("default").list_queues()


def test_rsmq_dlq_requeue_all_moves_them_back(remote: str) -> None:
    mid = dead_letter_on_far("again")
    assert "requeued 1" in run("rsmq_dlq", "remote", "requeue", "--all")
    assert [(m.id, m.raw, m.rc) for m in far().peek("remote")] == [(mid, "again", 0)]
    assert far().get_queue_attributes(remote).msgs == 0
    far().purge("remote")
    dead_letter_on_far("and purge")
    assert "purged 1" in run("rsmq_dlq", "remote", "purge", "--yes")


def test_ensure_queue_creates_the_dlq_on_the_queues_server_only(remote: str) -> None:
    assert ensure_queue("remote") is True
    assert far().list_queues() == sorted(["remote", remote])
    assert get_rsmq("default").list_queues() == []


def test_rsmq_queues_sync_creates_a_declared_dlq_on_the_queues_server(
    rsmq_on_test_redis: dict[str, Any], far_redis: TestRedis
) -> None:
    queue, dlq, extra = VARIANTS["declared"]
    setting = two_servers(rsmq_on_test_redis, far_redis.url, {"remote": queue, **extra})
    with override_settings(RSMQ=setting):
        assert f"would create {dlq} [far]" in run("rsmq_queues", "sync", "--dry-run")
        run("rsmq_queues", "sync")
        assert far().list_queues() == ["remote", dlq]
        assert dlq not in get_rsmq("default").list_queues()
        assert far().get_queue_attributes(dlq).vt == 60


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_consumer_serves_the_queue_while_default_is_down(
    variant: str, rsmq_on_test_redis: dict[str, Any], far_redis: TestRedis
) -> None:
    queue, dlq, extra = VARIANTS[variant]
    setting = two_servers(
        rsmq_on_test_redis,
        far_redis.url,
        {"remote": queue, **extra},
        default_url="redis://127.0.0.1:1/0",  # nothing listens there
    )
    seen: list[str] = []

    def note(message: Message) -> None:
        seen.append(message.raw if isinstance(message.raw, str) else message.raw.decode())

    registry.register("remote", note)
    try:
        with override_settings(RSMQ=setting):
            far().create_queue("remote")  # exists; its DLQ does not yet
            far().send("remote", "served")
            consumer = Consumer(["remote"], burst=True, verbosity=0)
            assert consumer.run() == 0
            assert seen == ["served"]
            assert dlq in far().list_queues()  # auto-created at start, on the far server
    finally:
        registry.unregister("remote")


@pytest.mark.django_db
def test_admin_dlq_and_message_pages_read_the_queues_server(remote: str, admin_client: Any) -> None:
    mid = dead_letter_on_far("seen in the admin")
    base = "/admin/django_rsmq/queue"
    page = admin_client.get(f"{base}/q/remote/dlq/")
    assert page.status_code == 200
    assert mid in page.content.decode()
    assert admin_client.get(f"{base}/q/{remote}/messages/{mid}/").status_code == 200
    assert admin_client.get(f"{base}/q/remote/").status_code == 200
    dashboard = admin_client.get(f"{base}/").content.decode()
    assert f"{base}/q/{remote}/" in dashboard  # listed, as a queue that exists
    dlq_page = admin_client.get(f"{base}/q/{remote}/")  # the DLQ as a queue of its own
    assert dlq_page.status_code == 200
    assert mid in dlq_page.content.decode()
    confirm = admin_client.get(f"{base}/q/remote/dlq/all/requeue/")
    assert "1 message(s)" in confirm.content.decode()
    done = admin_client.post(f"{base}/q/remote/dlq/all/requeue/")
    assert done.status_code == 302
    assert [m.id for m in far().peek("remote")] == [mid]
