"""Reliability settings: stored with the queue, shown, changed, validated."""

from __future__ import annotations

import re
from importlib import resources

import pytest
import redis

from django_rsmq.engine import RSMQ, NoAttributeSupplied, RetryPolicy
from django_rsmq.engine.reliability import (
    DEDUP_WINDOW_DEFAULT,
    FAILED_CAP_DEFAULT,
    FAILED_TTL_DEFAULT,
    FIELDS,
)


def test_defaults_when_nothing_is_set(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    a = rsmq.get_queue_attributes("q")
    assert a.max_receives is None
    assert a.dead_letter_queue is None
    assert a.retry is None
    assert a.retention is None
    assert a.retention_action == "drop"
    assert a.max_messages is None
    assert a.dedup_window == DEDUP_WINDOW_DEFAULT == 300.0
    assert a.failed_cap == FAILED_CAP_DEFAULT
    assert a.failed_ttl == FAILED_TTL_DEFAULT
    assert rsmq.list_queues() == ["q"]


def test_create_with_every_setting_shows_them(rsmq: RSMQ) -> None:
    policy = RetryPolicy.exponential(base=0.5, factor=3, max=60, jitter=0.2)
    rsmq.create_queue(
        "q",
        max_receives=3,
        dead_letter_queue="graveyard",
        retry=policy,
        retention=3600,
        retention_action="dead_letter",
        max_messages=10,
        dedup_window=60,
        failed_cap=5,
        failed_ttl=120,
    )
    a = rsmq.get_queue_attributes("q")
    assert (a.max_receives, a.dead_letter_queue, a.retry) == (3, "graveyard", policy)
    assert (a.retention, a.retention_action, a.max_messages) == (3600.0, "dead_letter", 10)
    assert (a.dedup_window, a.failed_cap, a.failed_ttl) == (60.0, 5, 120.0)
    # The DLQ is an ordinary RSMQ queue, created with the source queue.
    assert rsmq.list_queues() == ["graveyard", "q"]
    assert rsmq.get_queue_attributes("graveyard").msgs == 0


def test_default_dlq_name_is_queue_dash_dlq(rsmq: RSMQ) -> None:
    rsmq.create_queue("orders", max_receives=2)
    assert rsmq.get_queue_attributes("orders").dead_letter_queue == "orders-dlq"
    assert "orders-dlq" in rsmq.list_queues()


def test_set_changes_only_what_is_given_and_none_turns_off(rsmq: RSMQ) -> None:
    rsmq.create_queue("q", max_messages=4, retention=10)
    a = rsmq.set_queue_attributes("q", max_receives=5)
    assert (a.max_receives, a.dead_letter_queue, a.max_messages, a.retention) == (
        5,
        "q-dlq",
        4,
        10.0,
    )
    assert "q-dlq" in rsmq.list_queues()
    a = rsmq.set_queue_attributes("q", max_messages=None, dedup_window=None, vt=7)
    assert (a.max_messages, a.dedup_window, a.vt, a.retention) == (None, 300.0, 7.0, 10.0)
    a = rsmq.set_queue_attributes("q", dead_letter_queue="other")
    assert a.dead_letter_queue == "other"
    assert "other" in rsmq.list_queues()
    # Clearing the DLQ while max_receives is set falls back to the default name.
    a = rsmq.set_queue_attributes("q", dead_letter_queue=None)
    assert a.dead_letter_queue == "q-dlq"
    a = rsmq.set_queue_attributes("q", max_receives=None, dead_letter_queue=None)
    assert (a.max_receives, a.dead_letter_queue) == (None, None)


def test_no_attribute_supplied(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    with pytest.raises(NoAttributeSupplied):
        rsmq.set_queue_attributes("q")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_receives": 0}, "max_receives"),
        ({"max_receives": 1.5}, "max_receives"),
        ({"max_messages": 0}, "max_messages"),
        ({"dead_letter_queue": "q"}, "own dead-letter queue"),
        ({"dead_letter_queue": "bad name"}, "qname"),
        ({"retention": -1}, "retention"),
        ({"retention_action": "explode"}, "retention_action"),
        ({"dedup_window": "5"}, "dedup_window"),
        ({"failed_cap": -1}, "failed_cap"),
        ({"failed_cap": 100_001}, "failed_cap"),
        ({"failed_ttl": 0}, "failed_ttl"),
        ({"retry": [1, 2]}, "RetryPolicy"),
    ],
)
def test_bad_settings_raise_and_write_nothing(
    rsmq: RSMQ, redis_client: redis.Redis, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(ValueError, match=match):  # InvalidValue or InvalidName
        rsmq.create_queue("q", **kwargs)  # type: ignore[arg-type]
    assert rsmq.list_queues() == []
    rsmq.create_queue("q")
    before = redis_client.hgetall(f"{rsmq.namespace}:q:Q")
    with pytest.raises(ValueError, match=match):  # InvalidValue or InvalidName
        rsmq.set_queue_attributes("q", **kwargs)  # type: ignore[arg-type]
    assert redis_client.hgetall(f"{rsmq.namespace}:q:Q") == before


def test_settings_are_extra_fields_of_the_rsmq_hash(rsmq: RSMQ, redis_client: redis.Redis) -> None:
    """Node's deleteQueue (DEL hash zset) removes them with the queue."""
    rsmq.create_queue("q", max_receives=2, max_messages=9)
    h = redis_client.hgetall(f"{rsmq.namespace}:q:Q")
    assert h[b"ext:max_receives"] == b"2"
    assert h[b"ext:max_messages"] == b"9"
    assert h[b"ext:dlq"] == b"q-dlq"
    # Node-style delete of the queue keys leaves no settings behind.
    redis_client.delete(f"{rsmq.namespace}:q:Q", f"{rsmq.namespace}:q")
    assert not redis_client.exists(f"{rsmq.namespace}:q:Q")


def test_field_names_match_the_lua_library() -> None:
    lib = resources.files("django_rsmq.engine.scripts").joinpath("_lib.lua").read_text()
    cfg = re.search(r"local CFG = \{(.*?)\}", lib, re.S)
    assert cfg is not None
    lua_fields = re.findall(r'"([^"]+)"', cfg.group(1))
    expected = [f for f in FIELDS.values() if f != "ext:dlq"]
    expected.insert(1, "ext:dlq_target")
    assert lua_fields == expected
    defaults = (
        int(DEDUP_WINDOW_DEFAULT * 1000),
        FAILED_CAP_DEFAULT,
        int(FAILED_TTL_DEFAULT * 1000),
    )
    line = "DEDUP_DEFAULT_MS, FAILED_CAP_DEFAULT, FAILED_TTL_DEFAULT_MS = {}, {}, {}"
    assert line.format(*defaults) in lib


def test_queue_handle_passes_settings_through(rsmq: RSMQ) -> None:
    q = rsmq.queue("h")
    q.create(max_receives=4, max_messages=2)
    assert q.attributes().max_receives == 4
    assert q.set_attributes(max_messages=None).max_messages is None
    mid = q.send("x", dedup_id="k")
    assert q.send("y", dedup_id="k") == mid
    m = q.receive()
    assert m is not None
    assert q.nack(m, delay=0) == 0.0
    m = q.receive()
    assert m is not None
    assert not q.fail(m, "e").dead_lettered
    assert q.purge_expired() == 0
