"""Long polling (receive/receive_many/receive_from with ``wait``), for both front ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from django_rsmq.engine import BATCH_MAX, RSMQ, InvalidValue, QueueNotFound, listener
from django_rsmq.testing import TestRedis

from .fronts import Background, open_front, wait_until

WAIT = 10.0  # long polls below must return well before this when woken
QUICK = 3.0


def channel(namespace: str, qname: str) -> str:
    return f"{namespace}:rt:{qname}"


def subscribed(client: redis.Redis, chan: str, n: int = 1) -> Callable[[], bool]:
    return lambda: client.pubsub_numsub(chan)[0][1] >= n


def test_returns_on_a_send_from_another_connection(
    front: Any, redis_client: redis.Redis, namespace: str
) -> None:
    front.create_queue("q")
    waiter = Background(lambda: front.receive("q", wait=WAIT))
    wait_until(subscribed(redis_client, channel(namespace, "q")))
    producer = RSMQ(redis_client, namespace=namespace, realtime=True)
    mid = producer.send("q", "hello")
    msg = waiter.result()
    assert msg is not None
    assert (msg.id, msg.body) == (mid, "hello")
    assert waiter.elapsed < QUICK


def test_returns_on_a_raw_publish_like_nodes(
    front: Any, rsmq: RSMQ, redis_client: redis.Redis, namespace: str
) -> None:
    front.create_queue("q")
    waiter = Background(lambda: front.receive("q", wait=WAIT))
    wait_until(subscribed(redis_client, channel(namespace, "q")))
    # Let it finish its check after subscribing (nothing to await from outside).
    waiter.thread.join(0.2)
    rsmq.send("q", "from a producer that does not publish")  # rsmq is not realtime
    waiter.thread.join(0.3)
    assert waiter.thread.is_alive(), "a realtime queue's long poll must not poll"
    # What Node rsmq sends after its MULTI: PUBLISH {ns}:rt:{qname} <ZCARD>.
    redis_client.publish(channel(namespace, "q"), "1")
    msg = waiter.result()
    assert msg is not None
    assert msg.body == "from a producer that does not publish"
    assert waiter.elapsed < QUICK


def test_returns_when_a_delayed_message_comes_due(front: Any) -> None:
    front.create_queue("q")
    front.send("q", "later", delay=0.4)
    waiter = Background(lambda: front.receive("q", wait=WAIT))
    msg = waiter.result()
    assert msg is not None
    assert msg.body == "later"
    assert 0.3 <= waiter.elapsed < QUICK


def test_returns_when_a_hidden_message_becomes_visible_again(front: Any) -> None:
    front.create_queue("q")
    front.send("q", "retry me")
    first = front.receive("q", vt=0.4)
    assert first is not None
    waiter = Background(lambda: front.receive("q", wait=WAIT))
    again = waiter.result()
    assert again is not None
    assert (again.id, again.rc) == (first.id, 2)
    assert 0.2 <= waiter.elapsed < QUICK


def test_returns_nothing_after_wait_on_an_empty_queue(front: Any) -> None:
    front.create_queue("q")
    waiter = Background(lambda: front.receive_many("q", 10, wait=0.3))
    assert waiter.result() == []
    assert 0.3 <= waiter.elapsed < QUICK


def test_without_wait_nothing_waits(front: Any) -> None:
    front.create_queue("q")
    assert front.receive("q") is None
    assert front.receive("q", wait=0) is None
    assert front.receive_many("q", 5) == []


def test_non_realtime_queue_falls_back_to_poll_interval(
    make_front: Callable[..., Any], rsmq: RSMQ
) -> None:
    consumer = make_front(realtime=False, poll_interval=0.1)
    consumer.create_queue("q")
    waiter = Background(lambda: consumer.receive("q", wait=WAIT))
    waiter.thread.join(0.15)
    rsmq.send("q", "nobody publishes this")
    msg = waiter.result()
    assert msg is not None
    assert msg.body == "nobody publishes this"
    assert waiter.elapsed < QUICK


def test_realtime_for_listed_queues_only(
    make_front: Callable[..., Any], redis_client: redis.Redis, namespace: str
) -> None:
    mq = make_front(realtime=["loud"])
    mq.create_queue("loud")
    mq.create_queue("quiet")
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel(namespace, "loud"), channel(namespace, "quiet"))
    try:
        mq.send("quiet", "x")
        mq.send("loud", "y")
        mq.send_many("loud", ["a", "b"])
        got = []
        deadline = time.monotonic() + 5
        while len(got) < 2 and time.monotonic() < deadline:
            m = pubsub.get_message(timeout=1)  # None for the (ignored) subscribe replies
            if m is not None:
                got.append((m["channel"].decode(), m["data"].decode()))
    finally:
        pubsub.close()
    # Wire spec §5: the payload is the queue's message count after the send;
    # a batch publishes once.
    assert got == [(channel(namespace, "loud"), "1"), (channel(namespace, "loud"), "3")]


def test_many_concurrent_waiters_get_each_message_once(
    front: Any, redis_client: redis.Redis, namespace: str
) -> None:
    front.create_queue("q", vt=60)
    total, waiters = 40, 8
    received: list[str] = []
    lock = threading.Lock()
    done = threading.Event()

    def consume() -> None:
        while not done.is_set():
            for msg in front.receive_many("q", 3, wait=0.5):
                with lock:
                    received.append(msg.id)
                    if len(received) >= total:
                        done.set()

    threads = [Background(consume) for _ in range(waiters)]
    wait_until(subscribed(redis_client, channel(namespace, "q")))
    producer = RSMQ(redis_client, namespace=namespace, realtime=True)
    sent = []
    for i in range(total):
        sent.append(producer.send("q", f"m{i}"))
    assert done.wait(10), f"only {len(received)} of {total} received"
    for t in threads:
        t.result()
    assert sorted(received) == sorted(sent)  # each message exactly once


def test_receive_from_long_polls_several_queues_on_one_connection(
    front: Any, redis_client: redis.Redis, namespace: str
) -> None:
    for q in ("a", "b", "c"):
        front.create_queue(q)
    waiter = Background(lambda: front.receive_from(["a", "b", "c"], 5, wait=WAIT))
    wait_until(subscribed(redis_client, channel(namespace, "c")))
    assert all(redis_client.pubsub_numsub(channel(namespace, q))[0][1] == 1 for q in "abc")
    RSMQ(redis_client, namespace=namespace, realtime=True).send("c", "to c")
    got = waiter.result()
    assert [(m.queue, m.body) for m in got] == [("c", "to c")]
    assert waiter.elapsed < QUICK


def test_receive_from_rotates_between_busy_queues(front: Any) -> None:
    for q in ("a", "b"):
        front.create_queue(q)
        front.send_many(q, [f"{q}{i}" for i in range(4)])
    queues = [front.receive_from(["a", "b"], 1)[0].queue for _ in range(4)]
    assert sorted(queues) == ["a", "a", "b", "b"]
    assert queues[0] != queues[1]
    assert queues[2] != queues[3]


def test_receive_from_fills_count_across_queues(front: Any) -> None:
    for q in ("a", "b"):
        front.create_queue(q)
        front.send_many(q, [f"{q}{i}" for i in range(2)])
    got = front.receive_from(["a", "b"], 3)
    assert len(got) == 3
    assert {m.queue for m in got} == {"a", "b"}


def test_long_poll_of_a_missing_queue_raises(front: Any) -> None:
    with pytest.raises(QueueNotFound):
        front.receive("nope", wait=1)
    front.create_queue("there")
    with pytest.raises(QueueNotFound):
        front.receive_from(["there", "nope"], 1, wait=1)


@pytest.mark.parametrize("wait", [-1, float("nan"), "1", True])
def test_bad_wait_is_refused(front: Any, wait: Any) -> None:
    front.create_queue("q")
    front.send("q", "stays")
    with pytest.raises(InvalidValue):
        front.receive("q", wait=wait)
    assert front.get_queue_attributes("q").visible == 1


def test_bad_poll_interval_is_refused(make_front: Callable[..., Any]) -> None:
    with pytest.raises(InvalidValue):
        make_front(poll_interval=0)


def test_wakes_after_the_pubsub_connection_was_killed(
    front: Any, redis_client: redis.Redis, namespace: str
) -> None:
    front.create_queue("q")
    chan = channel(namespace, "q")
    waiter = Background(lambda: front.receive("q", wait=WAIT))
    wait_until(subscribed(redis_client, chan))
    assert redis_client.client_kill_filter(_type="pubsub") >= 1
    # The listener reconnects and subscribes again, then a realtime send wakes it.
    wait_until(subscribed(redis_client, chan))
    RSMQ(redis_client, namespace=namespace, realtime=True).send("q", "after reconnect")
    msg = waiter.result()
    assert msg is not None
    assert msg.body == "after reconnect"
    assert waiter.elapsed < QUICK + 2


@pytest.mark.parametrize(("count", "vt"), [(0, None), (BATCH_MAX + 1, None), (1, -1)])
def test_bad_count_or_vt_is_refused_even_when_all_queues_are_empty(
    front: Any, count: int, vt: Any
) -> None:
    front.create_queue("a")
    with pytest.raises(InvalidValue):
        front.receive_from(["a"], count, vt=vt, wait=1)


def test_queue_handle_long_polls_with_its_own_realtime(
    make_front: Callable[..., Any], redis_client: redis.Redis, namespace: str
) -> None:
    mq = make_front(realtime=False, poll_interval=60)  # polling would be far too slow
    mq.create_queue("h")
    handle = mq.queue("h", realtime=True)
    waiter = Background(lambda: handle.receive(wait=WAIT))
    wait_until(subscribed(redis_client, channel(namespace, "h")))
    handle.send("via handle")
    msg = waiter.result()
    assert msg is not None
    assert msg.body == "via handle"
    assert waiter.elapsed < QUICK


@pytest.mark.slow
def test_long_polls_work_again_after_a_redis_restart(
    front_kind: str, own_redis: TestRedis, namespace: str
) -> None:
    assert own_redis.server is not None
    with open_front(front_kind, own_redis.url, namespace=namespace, realtime=True) as mq:
        mq.create_queue("q")
        waiter = Background(lambda: mq.receive("q", wait=WAIT))
        client = own_redis.client()
        wait_until(subscribed(client, channel(namespace, "q")))
        own_redis.server.restart()  # AOF: the queue survives
        # The waiter either surfaced the outage (redis-py's ConnectionError, like any
        # call) or, if Redis was back before it looked again, re-subscribed and waits.
        waiter.thread.join(1.0)
        if not waiter.thread.is_alive():
            with pytest.raises(redis.ConnectionError):
                waiter.result()
            waiter = Background(lambda: mq.receive("q", wait=WAIT))
        client = own_redis.client()
        # Re-subscribing waits out the listener's reconnect back-off (up to 2 s a try).
        wait_until(subscribed(client, channel(namespace, "q")), timeout=15.0)
        sent_at = time.monotonic()
        RSMQ(client, namespace=namespace, realtime=True).send("q", "after restart")
        msg = waiter.result()
        assert msg is not None
        assert msg.body == "after restart"
        assert time.monotonic() - sent_at < QUICK
        client.close()


def test_a_channel_lingers_after_a_long_poll_then_is_unsubscribed(
    front: Any, redis_client: redis.Redis, namespace: str
) -> None:
    front.create_queue("q")
    chan = channel(namespace, "q")
    assert front.receive("q", wait=0.05) is None
    returned = time.monotonic()
    lingering = redis_client.pubsub_numsub(chan)[0][1]
    if time.monotonic() - returned < listener.LINGER / 2:  # not stalled past the grace period
        assert lingering == 1, "no UNSUBSCRIBE as soon as a long poll returns"
    # A long poll within the grace period is woken as before.
    waiter = Background(lambda: front.receive("q", wait=WAIT))
    waiter.thread.join(0.05)
    RSMQ(redis_client, namespace=namespace, realtime=True).send("q", "again")
    msg = waiter.result()
    assert msg is not None
    assert msg.body == "again"
    assert waiter.elapsed < QUICK
    # Nobody waits any more: unsubscribed after the grace period (at most about twice it).
    wait_until(lambda: redis_client.pubsub_numsub(chan)[0][1] == 0, timeout=5.0)


def test_notifications_published_while_a_channel_lingers_cause_no_extra_wake_ups(
    redis_client: redis.Redis, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listener, "LINGER", 5.0)  # the channel stays subscribed throughout
    mq = RSMQ(redis_client, namespace=namespace, realtime=True)
    mq.create_queue("q")
    assert mq.receive("q", wait=0.05) is None
    for _ in range(30):  # nobody reads the pub/sub connection meanwhile
        redis_client.publish(channel(namespace, "q"), "1")
    calls = 0
    run_calls = mq._run_calls

    def counted(calls_: Any) -> list[Any]:
        nonlocal calls
        calls += 1
        return run_calls(calls_)

    monkeypatch.setattr(mq, "_run_calls", counted)
    assert mq.receive("q", wait=0.3) is None
    # receive; after the barrier: receive and next_due; maybe one more look at the end.
    # (Each stale notification waking it would have cost two calls more.)
    assert calls <= 5, calls
    mq.close()


def _calls(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(s["calls"]) for name, s in stats.items()}


def test_an_idle_long_poll_on_a_lingering_channel_costs_two_round_trips_before_waiting(
    own_redis: TestRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wake-up path of an idle consumer (receive, ack, long-poll again) stays short:
    no PING barrier on a subscription confirmed earlier, and the look after subscribing
    reads the next due time in the same round trip."""
    monkeypatch.setattr(listener, "LINGER", 5.0)  # the channel stays subscribed throughout
    client = own_redis.client()
    mq = RSMQ(client, namespace="lp", realtime=True)
    mq.create_queue("q")
    assert mq.receive("q", wait=0.05) is None  # subscribes (and confirms) the channel
    fast = mq._fast
    assert fast is not None  # a plain client's calls go through the fast path
    round_trips = 0

    def counted(execute: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def run(command: Any) -> Any:
            nonlocal round_trips
            round_trips += 1
            return execute(command)

        return run

    monkeypatch.setattr(fast, "execute", counted(fast.execute))
    monkeypatch.setattr(fast, "execute_many", counted(fast.execute_many))
    client.config_resetstat()
    assert mq.receive("q", wait=0.2) is None
    # receive; receive + next_due in one round trip; after the deadline's wake-up: receive,
    # next_due. Nothing on the pub/sub connection.
    assert round_trips == 4, round_trips
    calls = _calls(client)
    assert "ping" not in calls, calls
    assert "subscribe" not in calls, calls
    mq.close()
    client.close()
