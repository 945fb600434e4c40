"""Rate limits: receive and pop start at most the bucket's tokens, the bucket refills on
Redis' clock, a long poll on a limited queue sleeps until the next token (no busy
polling), and the setting round-trips through the queue hash; both front ends."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis

from django_rsmq.engine import RSMQ, InvalidValue, RateLimit


@pytest.mark.parametrize(
    ("text", "limit", "period", "burst"),
    [
        ("100/s", 100, 1.0, 100),
        ("600/m", 600, 60.0, 600),
        ("10/5s", 10, 5.0, 10),
        ("100/s burst 20", 100, 1.0, 20),
        ({"LIMIT": 5, "PER": 2, "BURST": 1}, 5, 2.0, 1),
    ],
)
def test_rate_limits_parse(text: Any, limit: int, period: float, burst: int) -> None:
    r = RateLimit.parse(text)
    assert (r.limit, r.period, r.burst) == (limit, period, burst)
    assert RateLimit.from_field(r.to_field()) == r


@pytest.mark.parametrize("bad", ["fast", "0/s", "100/y", "-1/s", {"PER": 1}, 5, True])
def test_bad_rate_limits_are_refused(bad: Any) -> None:
    with pytest.raises(InvalidValue):
        RateLimit.parse(bad)


def test_receive_starts_no_more_than_the_bucket_holds(front: Any) -> None:
    front.create_queue("q", rate_limit="5/10s")  # 5 now, then one per 2 s
    for i in range(8):
        front.send("q", str(i))
    got = front.receive_many("q", 10)
    assert [m.body for m in got] == ["0", "1", "2", "3", "4"]
    assert front.receive("q") is None  # the bucket is empty
    assert front.pop("q") is None
    attrs = front.get_queue_attributes("q")
    assert attrs.rate_limit == RateLimit(5, 10.0, 5)
    assert attrs.visible == 3


def test_the_bucket_refills_with_time(front: Any) -> None:
    front.create_queue("q", rate_limit="20/s burst 2")
    for i in range(6):
        front.send("q", str(i))
    assert len(front.receive_many("q", 10)) == 2
    deadline = time.monotonic() + 5
    while not (msg := front.receive("q")):  # a token every 50 ms
        assert time.monotonic() < deadline, "the bucket never refilled"
    assert msg.body == "2"


def test_a_long_poll_on_a_limited_queue_sleeps_until_the_next_token(
    front: Any, redis_client: redis.Redis, namespace: str
) -> None:
    front.create_queue("q", rate_limit="2/s burst 1")
    front.send("q", "a")
    front.send("q", "b")
    assert front.receive("q") is not None
    calls = redis_client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
    started = time.monotonic()
    msg = front.receive("q", wait=5)
    elapsed = time.monotonic() - started
    assert msg is not None
    assert msg.body == "b"
    assert 0.3 < elapsed < 2.0  # the next token is due 0.5 s after the first receive
    after = redis_client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
    # a handful of script calls (receive, next_due, receive), not a busy loop; other
    # tests share this server, so only a generous bound is meaningful
    assert after - calls < 200


def test_the_limit_can_be_changed_and_removed(rsmq: RSMQ, raw: redis.Redis) -> None:
    rsmq.create_queue("q")
    attrs = rsmq.set_queue_attributes("q", rate_limit="1/m")
    assert attrs.rate_limit == RateLimit(1, 60.0)
    for i in range(3):
        rsmq.send("q", str(i))
    assert len(rsmq.receive_many("q", 10)) == 1
    assert rsmq.set_queue_attributes("q", rate_limit=None).rate_limit is None
    assert raw.hget(f"{rsmq.namespace}:q:Q", "ext:rate") is None
    assert len(rsmq.receive_many("q", 10)) == 2
    with pytest.raises(InvalidValue):
        rsmq.set_queue_attributes("q", rate_limit="lots")
