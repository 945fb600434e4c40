"""Receiving from several queues: one deleted or failing queue never costs the others
(issue 11). Both front ends; real Redis, the failures made by real deletes and data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import redis

from django_rsmq.engine import RSMQ, QueueNotFound, Received
from django_rsmq.engine.protocol import Call

from .fronts import Background, wait_until

WAIT = 10.0  # long polls below must return well before this when woken
QUICK = 3.0


def _engine(front: Any) -> Any:
    """The RSMQ or AsyncRSMQ behind a test front end."""
    return getattr(front, "mq", front)


def delete_before_second_receive(
    front: Any, monkeypatch: pytest.MonkeyPatch, admin: RSMQ
) -> list[str]:
    """Make a real delete race a multi-queue receive: the queue of the second receive
    call of the next round is deleted just before that call reaches Redis (after the
    round's next_due saw it holding messages). Returns the deleted queue's name."""
    engine = _engine(front)
    receives: list[str] = []
    deleted: list[str] = []

    def before(calls: Sequence[Call[Any]]) -> None:
        for c in calls:
            if c.script.name == "receive":
                receives.append(str(c.args[2]))
                if len(receives) == 2 and not deleted:
                    deleted.append(receives[1])
                    admin.delete_queue(receives[1])

    original = engine._run_calls
    if front is engine:

        def run_calls(calls: Sequence[Call[Any]]) -> list[Any]:
            before(calls)
            result: list[Any] = original(calls)
            return result

    else:

        async def run_calls(calls: Sequence[Call[Any]]) -> list[Any]:
            before(calls)
            result: list[Any] = await original(calls)
            return result

    monkeypatch.setattr(engine, "_run_calls", run_calls)
    return deleted


@pytest.mark.parametrize("wait", [None, WAIT])
def test_a_queue_deleted_mid_round_keeps_the_other_queues_messages(
    front: Any, rsmq: RSMQ, monkeypatch: pytest.MonkeyPatch, wait: float | None
) -> None:
    """The bug: the first queue's messages were hidden and counted (rc 1) but dropped
    with the second queue's QueueNotFound; after MAX_RECEIVES such rounds a message no
    handler ever saw was dead-lettered."""
    for q in ("a", "b"):
        front.create_queue(q)
        for i in range(3):
            front.send(q, f"{q}{i}")
    deleted = delete_before_second_receive(front, monkeypatch, rsmq)
    got = front.receive_from(["a", "b"], 10, wait=wait)
    (gone,) = deleted
    kept = "a" if gone == "b" else "b"
    assert sorted(m.body for m in got) == [f"{kept}{i}" for i in range(3)]
    assert isinstance(got, Received)
    assert list(got.errors) == [gone]
    assert isinstance(got.errors[gone], QueueNotFound)
    # Nothing hidden and unreturned: every message of the kept queue is in flight once.
    assert rsmq.get_queue_attributes(kept).in_flight == 3
    assert {m.rc for m in got} == {1}


def test_a_queue_with_poison_data_does_not_fail_the_others(
    front: Any, raw: redis.Redis, namespace: str
) -> None:
    """A malformed rc made the receive of its queue raise a ResponseError, which dropped
    what the other queues gave in the same round."""
    for q in ("a", "b"):
        front.create_queue(q)
    bad = front.send("b", "poison")
    raw.hset(f"{namespace}:b:Q", f"{bad}:rc", "x")
    sent = {front.send(q, f"{q}{i}") for q in ("a", "b") for i in range(3)}
    got: list[Any] = []
    for _ in range(4):
        got += front.receive_from(["a", "b"], 10)
    assert {m.id for m in got} == sent
    assert front.failed("b").items[0].message_id == bad


def test_long_poll_keeps_serving_a_queue_after_another_was_deleted(
    front: Any, rsmq: RSMQ, redis_client: redis.Redis, namespace: str
) -> None:
    """The bug: next_due raised QueueNotFound for the whole round, so a consumer of
    [a, b] served nothing of a once b was deleted."""
    for q in ("a", "b"):
        front.create_queue(q)
    rsmq.delete_queue("b")
    waiter = Background(lambda: front.receive_from(["a", "b"], 5, wait=WAIT))
    wait_until(lambda: redis_client.pubsub_numsub(f"{namespace}:rt:a")[0][1] >= 1)
    mid = RSMQ(redis_client, namespace=namespace, realtime=True).send("a", "to a")
    got = waiter.result()
    assert [(m.queue, m.id) for m in got] == [("a", mid)]
    assert waiter.elapsed < QUICK
    assert isinstance(got.errors["b"], QueueNotFound)  # surfaced once, typed


def test_a_queue_deleted_under_a_sleeping_long_poll(
    front: Any, rsmq: RSMQ, redis_client: redis.Redis, namespace: str
) -> None:
    for q in ("a", "b"):
        front.create_queue(q)
    waiter = Background(lambda: front.receive_from(["a", "b"], 5, wait=WAIT))
    wait_until(lambda: redis_client.pubsub_numsub(f"{namespace}:rt:b")[0][1] >= 1)
    rsmq.delete_queue("b")
    mid = RSMQ(redis_client, namespace=namespace, realtime=True).send("a", "to a")
    got = waiter.result()
    assert [(m.queue, m.id) for m in got] == [("a", mid)]
    assert waiter.elapsed < QUICK


def test_a_broken_queue_is_reported_and_the_others_served(
    front: Any, raw: redis.Redis, namespace: str
) -> None:
    """A queue whose keys cannot be read (a key of the wrong type) fails only itself."""
    for q in ("a", "b"):
        front.create_queue(q)
    raw.delete(f"{namespace}:b")
    raw.set(f"{namespace}:b", "not a sorted set")
    mid = front.send("a", "to a")
    got = front.receive_from(["a", "b"], 5, wait=1)
    assert [m.id for m in got] == [mid]
    assert isinstance(got.errors["b"], redis.ResponseError)
    assert "WRONGTYPE" in str(got.errors["b"])


def test_every_queue_gone_raises_at_once(front: Any) -> None:
    with pytest.raises(QueueNotFound):
        front.receive_from(["nope", "neither"], 1, wait=WAIT)


def test_nothing_received_and_a_queue_missing_raises_after_the_wait(front: Any) -> None:
    front.create_queue("there")
    waiter = Background(lambda: front.receive_from(["there", "nope"], 1, wait=0.3))
    with pytest.raises(QueueNotFound):
        waiter.result()


@pytest.mark.parametrize("wait", [None, WAIT])
def test_rotate_false_looks_at_the_queues_in_the_order_given(
    front: Any, wait: float | None
) -> None:
    """The consumer's priorities (issue 15): without rotation every call starts at the
    first queue given, and the next ones fill what is left of ``count``."""
    for q in ("a", "b", "c"):
        front.create_queue(q)
        for i in range(3):
            front.send(q, f"{q}{i}")
    firsts = [
        front.receive_from(["b", "a", "c"], 1, wait=wait, rotate=False)[0].body for _ in range(3)
    ]
    assert firsts == ["b0", "b1", "b2"]  # rotating, the second call started at a
    got = front.receive_from(["c", "a"], 4, wait=wait, rotate=False)
    assert [m.body for m in got] == ["c0", "c1", "c2", "a0"]
