"""Batch operations: one call each, a result per entry in input order, for both front ends."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis

from django_rsmq.engine import (
    BATCH_MAX,
    Entry,
    InvalidName,
    InvalidValue,
    MessageNotFound,
    MessageTooLong,
    QueueNotFound,
    SerializationError,
    StaleReceipt,
)
from django_rsmq.testing import TestRedis


def errors(outcomes: list[Any]) -> list[type | None]:
    return [None if o.ok else type(o.error) for o in outcomes]


def test_send_many_gives_per_entry_results_next_to_valid_ones(front: Any) -> None:
    front.create_queue("q", maxsize=1024)
    outcomes = front.send_many(
        "q",
        [
            "first",
            Entry("bad delay", delay=-1),
            object(),  # not JSON-serializable
            "x" * 2000,  # longer than maxsize
            Entry({"n": 2}, delay=0),
        ],
    )
    assert errors(outcomes) == [
        None,
        InvalidValue,
        SerializationError,
        MessageTooLong,
        None,
    ]
    assert outcomes[3].error.size == 2000
    sent = [outcomes[0].unwrap(), outcomes[4].unwrap()]
    got = front.receive_many("q", 10)
    assert [(m.id, m.body) for m in got] == [(sent[0], "first"), (sent[1], {"n": 2})]
    assert front.get_queue_attributes("q").totalsent == 2


def test_send_many_keeps_fifo_order_and_per_entry_delay(front: Any) -> None:
    front.create_queue("q")
    outcomes = front.send_many("q", ["a", Entry("later", delay=60), "b", "c"], delay=0)
    assert all(o.ok for o in outcomes)
    assert [m.body for m in front.receive_many("q", 10)] == ["a", "b", "c"]
    attrs = front.get_queue_attributes("q")
    assert (attrs.delayed, attrs.in_flight) == (1, 3)


def test_send_many_default_delay_applies_to_entries_without_one(front: Any) -> None:
    front.create_queue("q")
    front.send_many("q", ["held", Entry("now", delay=0)], delay=60)
    assert [m.body for m in front.receive_many("q", 10)] == ["now"]


def test_send_many_to_a_missing_queue_writes_nothing(
    front: Any, redis_client: redis.Redis, namespace: str
) -> None:
    with pytest.raises(QueueNotFound):
        front.send_many("nope", ["a", "b"])
    assert redis_client.keys(f"{namespace}:*") == []


def test_batches_are_limited_and_an_oversized_one_sends_nothing(front: Any) -> None:
    front.create_queue("q")
    with pytest.raises(InvalidValue):
        front.send_many("q", ["m"] * (BATCH_MAX + 1))
    assert front.get_queue_attributes("q").msgs == 0
    outcomes = front.send_many("q", [str(i) for i in range(BATCH_MAX)])
    assert len(outcomes) == BATCH_MAX
    assert all(o.ok for o in outcomes)
    with pytest.raises(InvalidValue):
        front.receive_many("q", BATCH_MAX + 1)
    assert len(front.receive_many("q", BATCH_MAX)) == BATCH_MAX


def test_batches_are_atomic(front: Any, test_redis: TestRedis, namespace: str) -> None:
    """A concurrent reader sees all of a batch or none of it, never a part."""
    front.create_queue("q", vt=60)
    zset = f"{namespace}:q"
    seen: set[int] = set()
    stop = threading.Event()

    def watch() -> None:
        reader = test_redis.client()
        while not stop.is_set():
            seen.add(reader.zcard(zset))
        reader.close()

    t = threading.Thread(target=watch)
    t.start()
    try:
        front.send_many("q", [f"m{i}" for i in range(BATCH_MAX)])
        received = front.receive_many("q", BATCH_MAX)
        assert errors(front.ack_many(received)) == [None] * BATCH_MAX
    finally:
        stop.set()
        t.join(10)
    assert seen <= {0, BATCH_MAX}


def test_receive_many_and_pop_many(front: Any) -> None:
    front.create_queue("q")
    ids = [o.unwrap() for o in front.send_many("q", ["a", "b", "c", "d", "e"])]
    got = front.receive_many("q", 2, vt=60)
    assert [m.id for m in got] == ids[:2]
    assert all(m.rc == 1 and m.receipt for m in got)
    popped = front.pop_many("q", 10)
    assert [m.id for m in popped] == ids[2:]
    attrs = front.get_queue_attributes("q")
    assert (attrs.msgs, attrs.in_flight) == (2, 2)
    assert front.pop_many("q", 3) == []


def test_delete_many_per_entry(front: Any) -> None:
    front.create_queue("q")
    ids = [o.unwrap() for o in front.send_many("q", ["a", "b"])]
    missing = "0" * 32
    outcomes = front.delete_many("q", [ids[0], "bad id", missing, ids[1]])
    assert errors(outcomes) == [None, InvalidName, None, None]
    assert [o.value for o in outcomes if o.ok] == [True, False, True]
    assert front.get_queue_attributes("q").msgs == 0


def test_ack_many_across_queues_in_input_order(front: Any) -> None:
    for q in ("a", "b"):
        front.create_queue(q)
        front.send_many(q, [f"{q}1", f"{q}2"])
    a1, a2 = front.receive_many("a", 2, vt=0)
    b1, b2 = front.receive_many("b", 2, vt=60)
    a1_again = front.receive_many("a", 1, vt=60)[0]  # redelivered: a1's receipt is stale
    assert a1_again.id == a1.id
    front.ack(b2)
    outcomes = front.ack_many([b1, a1.receipt, "not a receipt", a1_again, b2.receipt, a2])
    assert errors(outcomes) == [
        None,
        StaleReceipt,
        InvalidName,
        None,
        MessageNotFound,
        None,
    ]
    assert outcomes[1].error.current_rc == 2
    assert front.get_queue_attributes("a").msgs == 0
    assert front.get_queue_attributes("b").msgs == 0


def test_change_visibility_many(front: Any) -> None:
    front.create_queue("q")
    ids = [o.unwrap() for o in front.send_many("q", ["a", "b", "c"])]
    outcomes = front.change_visibility_many("q", [ids[0], "0" * 32, "?", ids[2]], 60)
    assert errors(outcomes) == [None, None, InvalidName, None]
    assert [o.value for o in outcomes if o.ok] == [True, False, True]
    assert [m.id for m in front.receive_many("q", 10)] == [ids[1]]
    with pytest.raises(InvalidValue):
        front.change_visibility_many("q", ids, -1)


def test_change_visibility_by_receipt_many(front: Any) -> None:
    front.create_queue("q")
    front.send_many("q", ["a", "b"])
    first, second = front.receive_many("q", 2, vt=60)
    outcomes = front.change_visibility_by_receipt_many(
        [first, "q:" + "0" * 32 + ":1", second.receipt], 0
    )
    assert errors(outcomes) == [None, MessageNotFound, None]
    assert {m.id for m in front.receive_many("q", 10)} == {first.id, second.id}
    outcomes = front.change_visibility_by_receipt_many([first], 0)  # rc moved on: stale
    assert errors(outcomes) == [StaleReceipt]
    with pytest.raises(InvalidValue):
        front.change_visibility_by_receipt_many(["bad"], -1)


def test_queue_handle_batches_and_realtime_override(
    make_front: Any, redis_client: redis.Redis, namespace: str
) -> None:
    mq = make_front(realtime=False)
    q = mq.queue("h", realtime=True)
    mq.create_queue("h")
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(f"{namespace}:rt:h")
    try:
        outcomes = mq.send_many("h", ["x"])  # the instance: not realtime
        assert outcomes[0].ok
        q.send_many(["y", "z"])
        seen = None
        for _ in range(5):
            seen = pubsub.get_message(timeout=1)
            if seen is not None:
                break
    finally:
        pubsub.close()
    assert seen is not None
    assert seen["data"] == b"3"  # only the handle's send published: count after it


def test_reliability_methods_are_on_both_front_ends(front: Any) -> None:
    front.create_queue("q", max_receives=5)
    front.send_many("q", ["again"])
    (msg,) = front.receive_many("q", 1, vt=60)
    assert front.nack(msg, 0) == 0
    again = front.receive("q", wait=5)
    assert again is not None
    assert (again.id, again.rc) == (msg.id, 2)
    assert front.queue("q").fail(again, "boom").__class__.__name__ == "FailResult"
