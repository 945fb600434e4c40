"""Concurrency caps: receive and pop hand out at most ``max_in_flight`` minus the messages
held (the in-flight index's live entries), an ack, nack or fail frees a slot and wakes a
waiting long poll, a slot whose holder vanished comes back when its visibility timeout
passes, the visibility keeper's extensions keep it, and a long poll on a full queue
sleeps until the first lease expires; both front ends."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import redis

from django_rsmq.engine import RSMQ, InvalidValue
from django_rsmq.engine.errors import BodyDecodeError
from django_rsmq.testing import TestRedis


def _fill(front: Any, n: int) -> None:
    for i in range(n):
        front.send("q", str(i))


def test_receive_hands_out_no_more_than_the_free_slots(front: Any) -> None:
    front.create_queue("q", vt=30, max_in_flight=2)
    _fill(front, 5)
    got = front.receive_many("q", 10)
    assert [m.body for m in got] == ["0", "1"]
    assert front.receive("q") is None  # both slots held
    assert front.pop("q") is None
    attrs = front.get_queue_attributes("q")
    assert (attrs.max_in_flight, attrs.in_flight, attrs.visible) == (2, 2, 3)
    front.ack(got[0])
    assert [m.body for m in front.receive_many("q", 10)] == ["2"]
    assert front.receive("q") is None


def test_nack_and_fail_free_the_slot_while_the_message_waits_for_its_retry(front: Any) -> None:
    front.create_queue("q", vt=30, max_in_flight=1)
    _fill(front, 3)
    first = front.receive("q")
    front.nack(first, delay=60)  # waiting for its retry: holds no slot
    attrs = front.get_queue_attributes("q")
    assert (attrs.in_flight, attrs.delayed) == (0, 1)
    second = front.receive("q")
    assert second.body == "1"
    assert front.receive("q") is None
    front.fail(second, ValueError("boom"))
    assert front.receive("q") is not None  # "1" (visible again: no retry policy) or "2"


def test_a_slot_comes_back_when_its_visibility_timeout_passes(
    front: Any, redis_client: redis.Redis
) -> None:
    front.create_queue("q", vt=30, max_in_flight=1)
    _fill(front, 2)
    assert front.receive("q", vt=1) is not None  # its holder is never heard of again
    assert front.receive("q") is None
    calls = redis_client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
    started = time.monotonic()
    msg = front.receive("q", wait=5)  # sleeps until the lease expires, then receives
    assert msg is not None
    assert 0.5 < time.monotonic() - started < 3.0
    after = redis_client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
    # a handful of script calls (receive, next_due, receive), not a busy loop; other
    # tests share this server, so only a generous bound is meaningful
    assert after - calls < 200


def test_an_extension_keeps_the_slot(front: Any) -> None:
    front.create_queue("q", vt=30, max_in_flight=1)
    _fill(front, 2)
    held = front.receive("q", vt=1)
    front.change_visibility_by_receipt(held, 30)  # what the consumer's visibility keeper does
    assert front.receive("q", wait=1.5) is None  # the slot did not come back at 1 s


@pytest.mark.parametrize("release", ["ack", "nack", "fail", "quarantine"])
def test_a_released_slot_wakes_a_long_poll_waiting_for_it(
    rsmq: RSMQ, redis_client: redis.Redis, release: str
) -> None:
    # a poll interval longer than the test: only the ack's publish can wake the poll
    rsmq = RSMQ(redis_client, namespace=rsmq.namespace, realtime=True, poll_interval=30)
    rsmq.create_queue("q", vt=30, max_in_flight=1)
    poison = release == "quarantine"  # fail() of an undecodable body quarantines it
    rsmq.send("q", "{not json" if poison else "a", serializer="text")
    rsmq.send("q", "b")
    held = rsmq.receive("q", **({"serializer": "json"} if poison else {}))
    releasing = threading.Event()

    def release_later() -> None:
        time.sleep(0.3)
        other = RSMQ(redis_client, namespace=rsmq.namespace)
        releasing.set()  # before the call: the poll may return before the call does
        if release == "ack":
            other.ack(held)
        elif release == "nack":
            other.nack(held, delay=60)
        elif release == "fail":
            other.fail(held, "boom")  # no retry policy: "a" is visible again at once
        else:
            with pytest.raises(BodyDecodeError) as undecodable:
                _ = held.body
            assert other.fail(held, undecodable.value).retry_in is None

    threading.Thread(target=release_later, daemon=True).start()
    started = time.monotonic()
    msg = rsmq.receive("q", wait=20)  # the lease runs 30 s: only the release's publish wakes it
    assert msg is not None
    assert msg.body == "b"  # fail: "a" is visible again, but behind "b"
    assert releasing.is_set()
    assert time.monotonic() - started < 5.0  # far below the 20 s wait and the 30 s lease


def test_the_cap_can_be_changed_and_removed(rsmq: RSMQ, raw: redis.Redis) -> None:
    rsmq.create_queue("q", vt=30)
    assert rsmq.get_queue_attributes("q").max_in_flight is None
    attrs = rsmq.set_queue_attributes("q", max_in_flight=1)
    assert attrs.max_in_flight == 1
    _fill(rsmq, 3)
    assert len(rsmq.receive_many("q", 10)) == 1
    assert rsmq.set_queue_attributes("q", max_in_flight=None).max_in_flight is None
    assert raw.hget(f"{rsmq.namespace}:q:Q", "ext:cap") is None
    assert len(rsmq.receive_many("q", 10)) == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, "5", True, 10**7])
def test_bad_caps_are_refused(rsmq: RSMQ, bad: Any) -> None:
    with pytest.raises(InvalidValue):
        rsmq.create_queue("q", max_in_flight=bad)


def test_the_cap_costs_no_round_trip(own_redis: TestRedis) -> None:
    """The cap lives inside the receive and ack scripts: a batch is one script call to
    receive and one to ack, capped or not (INFO commandstats on a private server)."""
    client = own_redis.client()
    rsmq = RSMQ(client, namespace="cost")
    per_queue = []
    for name, cap in (("plain", None), ("capped", 50)):
        rsmq.create_queue(name, vt=30, max_in_flight=cap)
        rsmq.send_many(name, ["x"] * 20)
        client.config_resetstat()
        got = rsmq.receive_many(name, 10)
        rsmq.ack_many(got)
        stats: dict[str, Any] = client.info("commandstats")
        per_queue.append(stats["cmdstat_evalsha"]["calls"])
        assert len(got) == 10
    assert per_queue == [2, 2]
    client.close()
