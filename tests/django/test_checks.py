"""Each system check fires on the bad setting it names (and only then)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from django_rsmq.checks import check_deploy
from django_rsmq.checks import check_settings as all_settings_checks
from django_rsmq.handlers import registry
from django_rsmq.testing import TestRedis


def check_settings() -> list[Any]:
    """The settings checks but W003: the tests below replace the "work" queue's entry
    (dropping its RETRY), which W003 rightly reports; it has a test of its own."""
    return [m for m in all_settings_checks() if m.id != "django_rsmq.W003"]


def ids(messages: list[Any]) -> list[str]:
    return sorted(m.id for m in messages)


def with_rsmq(base: dict[str, Any], **changes: Any) -> Any:
    return override_settings(RSMQ={**base, **changes})


def queues(base: dict[str, Any], **qs: Any) -> dict[str, Any]:
    return {**base["QUEUES"], **qs}


def test_the_test_settings_are_clean() -> None:
    assert all_settings_checks() == []
    assert [m for m in run_checks(tags=["rsmq"]) if m.id.startswith("django_rsmq")] == []


def test_e001_wrong_shape(rsmq_on_test_redis: dict[str, Any]) -> None:
    with override_settings(RSMQ=["not", "a", "dict"]):
        assert ids(check_settings()) == ["django_rsmq.E001"]
    with with_rsmq(rsmq_on_test_redis, QUEUES={"a": "nope"}):
        assert ids(check_settings()) == ["django_rsmq.E001"]


def test_e002_unknown_keys(rsmq_on_test_redis: dict[str, Any]) -> None:
    with with_rsmq(rsmq_on_test_redis, QUEUS={}):
        assert ids(check_settings()) == ["django_rsmq.E002"]
    qs = queues(rsmq_on_test_redis, work={"VISIBILTY_TIMEOUT": 1})
    with with_rsmq(rsmq_on_test_redis, QUEUES=qs):
        (msg,) = check_settings()
        assert (msg.id, "VISIBILTY_TIMEOUT" in msg.msg) == ("django_rsmq.E002", True)


def test_e003_invalid_queue_name(rsmq_on_test_redis: dict[str, Any]) -> None:
    with with_rsmq(rsmq_on_test_redis, QUEUES=queues(rsmq_on_test_redis, **{"bad name": {}})):
        assert ids(check_settings()) == ["django_rsmq.E003"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("VISIBILITY_TIMEOUT", -1),
        ("VISIBILITY_TIMEOUT", 10_000_000),
        ("VISIBILITY_TIMEOUT", 1.5),
        ("DELAY", "5"),
        ("MAX_SIZE", 100),
        ("MAX_RECEIVES", 0),
        ("RETRY", [-1]),
        ("RETRY", {"BASE": 1, "FACTOR": 0.5}),
        ("RETRY", {"JITTER": 2}),
        ("RETRY", {"BASE": 10, "MAX": 5}),
        ("FAILED_TTL", 0),
        ("RETENTION_ACTION", "explode"),
        ("REALTIME", "yes"),
        ("SERIALIZER", "yaml"),
    ],
)
def test_e004_out_of_range_values(rsmq_on_test_redis: dict[str, Any], key: str, value: Any) -> None:
    with with_rsmq(rsmq_on_test_redis, QUEUES=queues(rsmq_on_test_redis, work={key: value})):
        (msg,) = check_settings()
        assert msg.id == "django_rsmq.E004"
        assert key in msg.msg


def test_e005_unknown_connection_alias(rsmq_on_test_redis: dict[str, Any]) -> None:
    qs = queues(rsmq_on_test_redis, work={"CONNECTION": "elsewhere"})
    with with_rsmq(rsmq_on_test_redis, QUEUES=qs):
        assert ids(check_settings()) == ["django_rsmq.E005"]


def test_e006_dead_letter_queue_pointing_at_itself(rsmq_on_test_redis: dict[str, Any]) -> None:
    qs = queues(rsmq_on_test_redis, work={"DEAD_LETTER_QUEUE": "work"})
    with with_rsmq(rsmq_on_test_redis, QUEUES=qs):
        assert ids(check_settings()) == ["django_rsmq.E006"]


def test_e007_dead_letter_queue_not_declared(rsmq_on_test_redis: dict[str, Any]) -> None:
    qs = queues(rsmq_on_test_redis, work={"DEAD_LETTER_QUEUE": "nowhere"})
    with with_rsmq(rsmq_on_test_redis, QUEUES=qs):
        assert ids(check_settings()) == ["django_rsmq.E007"]


@pytest.mark.parametrize(
    "conn",
    [
        {"USE_DJANGO_CACHE": "missing"},
        {"USE_DJANGO_CACHE": "default"},  # a LocMemCache
        {"SENTINELS": [("127.0.0.1", 26379)]},
        {"URL": "http://example.com"},
        {"URL": "redis://127.0.0.1/0", "HOST": "127.0.0.1"},
    ],
)
def test_e008_invalid_connection(rsmq_on_test_redis: dict[str, Any], conn: dict[str, Any]) -> None:
    caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with (
        override_settings(CACHES=caches),
        with_rsmq(rsmq_on_test_redis, CONNECTIONS={"default": conn}),
    ):
        assert ids(check_settings()) == ["django_rsmq.E008"]


def two_connections(base: dict[str, Any]) -> dict[str, Any]:
    url = base["CONNECTIONS"]["default"]["URL"]
    return {"default": {"URL": url}, "far": {"URL": url}}


@pytest.mark.parametrize(
    "qs",
    [
        {"remote": {"CONNECTION": "far", "MAX_RECEIVES": 2}},  # implicit remote-dlq
        {
            "remote": {"CONNECTION": "far", "MAX_RECEIVES": 2, "DEAD_LETTER_QUEUE": "dead"},
            "dead": {},  # no CONNECTION: it lives on far with its queue
        },
        {
            "remote": {"CONNECTION": "far", "MAX_RECEIVES": 2, "DEAD_LETTER_QUEUE": "dead"},
            "dead": {"CONNECTION": "far"},
        },
    ],
)
def test_a_dlq_on_its_queues_connection_is_clean(
    rsmq_on_test_redis: dict[str, Any], qs: dict[str, Any]
) -> None:
    conns = two_connections(rsmq_on_test_redis)
    with with_rsmq(rsmq_on_test_redis, CONNECTIONS=conns, QUEUES=queues(rsmq_on_test_redis, **qs)):
        assert check_settings() == []


def test_e009_dlq_declared_on_another_connection(rsmq_on_test_redis: dict[str, Any]) -> None:
    qs = queues(
        rsmq_on_test_redis,
        remote={"CONNECTION": "far", "MAX_RECEIVES": 2, "DEAD_LETTER_QUEUE": "dead"},
        dead={"CONNECTION": "default"},
    )
    conns = two_connections(rsmq_on_test_redis)
    with with_rsmq(rsmq_on_test_redis, CONNECTIONS=conns, QUEUES=qs):
        (msg,) = check_settings()
    assert msg.id == "django_rsmq.E009"
    assert msg.obj == "RSMQ['QUEUES']['remote']"
    assert "is on connection 'far' but its dead-letter queue 'dead'" in msg.msg
    assert "CONNECTION is 'default'" in msg.msg
    assert "Remove CONNECTION from RSMQ['QUEUES']['dead']" in msg.hint


def test_e009_dlq_shared_by_queues_on_two_connections(rsmq_on_test_redis: dict[str, Any]) -> None:
    qs = queues(
        rsmq_on_test_redis,
        near={"MAX_RECEIVES": 2, "DEAD_LETTER_QUEUE": "dead"},
        remote={"CONNECTION": "far", "MAX_RECEIVES": 2, "DEAD_LETTER_QUEUE": "dead"},
        dead={},
    )
    conns = two_connections(rsmq_on_test_redis)
    with with_rsmq(rsmq_on_test_redis, CONNECTIONS=conns, QUEUES=qs):
        (msg,) = check_settings()
    assert (msg.id, msg.obj) == ("django_rsmq.E009", "RSMQ['QUEUES']['remote']")
    assert "share it: 'near' (default)" in msg.msg


def test_w001_handler_for_an_undeclared_queue(rsmq_on_test_redis: dict[str, Any]) -> None:
    registry.register("ghost", lambda m: None)
    try:
        (msg,) = check_settings()
        assert (msg.id, "'ghost'" in msg.msg) == ("django_rsmq.W001", True)
    finally:
        registry.unregister("ghost")


def test_w002_embedded_with_debug_false(rsmq_on_test_redis: dict[str, Any]) -> None:
    with with_rsmq(rsmq_on_test_redis, CONNECTIONS={}), override_settings(DEBUG=False):
        assert ids(check_settings()) == ["django_rsmq.W002"]
    with with_rsmq(rsmq_on_test_redis, CONNECTIONS={}), override_settings(DEBUG=True):
        assert check_settings() == []


def test_deploy_checks_run_only_with_deploy() -> None:
    assert "django_rsmq.W012" not in ids(run_checks(tags=["rsmq"]))
    assert "django_rsmq.W012" in ids(run_checks(tags=["rsmq"], include_deployment_checks=True))


def test_e010_redis_unreachable(rsmq_on_test_redis: dict[str, Any]) -> None:
    conns = {"default": {"URL": "redis://127.0.0.1:1/0", "SOCKET_CONNECT_TIMEOUT": 0.5}}
    with with_rsmq(rsmq_on_test_redis, CONNECTIONS=conns):
        assert ids(check_deploy()) == ["django_rsmq.E010"]


def test_w012_no_persistence_on_the_session_server() -> None:
    # the session server runs with --save "" --appendonly no
    assert ids(check_deploy()) == ["django_rsmq.W012"]


def test_w011_evicting_policy_and_a_clean_persistent_server(
    own_redis: TestRedis, rsmq_on_test_redis: dict[str, Any]
) -> None:
    client = own_redis.client()
    with with_rsmq(rsmq_on_test_redis, CONNECTIONS={"default": own_redis.url}):
        assert check_deploy() == []  # appendonly yes, noeviction
        client.config_set("maxmemory-policy", "allkeys-lru")
        (msg,) = check_deploy()
        assert (msg.id, "allkeys-lru" in msg.msg) == ("django_rsmq.W011", True)
    client.close()


def test_w003_handled_queue_without_retry_or_max_receives(
    rsmq_on_test_redis: dict[str, Any],
) -> None:
    qs = queues(rsmq_on_test_redis, work={"VISIBILITY_TIMEOUT": 1})
    with with_rsmq(rsmq_on_test_redis, QUEUES=qs):
        (msg,) = all_settings_checks()
        assert (msg.id, "'work'" in msg.msg) == ("django_rsmq.W003", True)
    for fix in ({"RETRY": [5]}, {"MAX_RECEIVES": 3}):
        qs = queues(rsmq_on_test_redis, work={"VISIBILITY_TIMEOUT": 1, **fix})
        with with_rsmq(rsmq_on_test_redis, QUEUES=qs):
            assert all_settings_checks() == []
