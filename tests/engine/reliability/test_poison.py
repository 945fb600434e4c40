"""Poison data is quarantined, not looped (issue 11; docs/reliability.md "Poison data").

The poison is written exactly as a peer or a hand edit would (HSET rc "x", HDEL body,
ZADD of a member that is not an id); the good messages behind it must all be delivered,
nothing may raise for the queue, and the poison ends in the DLQ (queue with one) or a
failure record (queue without), with its reason."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from django_rsmq.engine import RSMQ, BodyDecodeError, Keys, RetryPolicy, StaleReceipt

KINDS = ["malformed_rc", "missing_body", "invalid_id"]
GOOD = 25
BOGUS = "not-an-id"


def plant(kind: str, mq: Any, raw: redis.Redis, keys: Keys, q: str) -> str:
    """Put one poison message at the head of queue ``q``; returns its member."""
    k = keys.queue(q)
    if kind == "invalid_id":
        raw.hset(k.hash, BOGUS, "bogus body")
        raw.zadd(k.zset, {BOGUS: 0})
        return BOGUS
    mid: str = mq.send(q, "poison")
    raw.zadd(k.zset, {mid: 0})  # the head of the queue
    if kind == "malformed_rc":
        raw.hset(k.hash, f"{mid}:rc", "x")
    else:
        raw.hdel(k.hash, mid)
    return mid


def drain(take: Any) -> list[Any]:
    """Everything ``take()`` gives until it gives nothing (bounded)."""
    got: list[Any] = []
    for _ in range(GOOD + 5):
        batch = take()
        if not batch:
            return got
        got += batch
    raise AssertionError("the queue never ran dry")


def make_queue(mq: Any, q: str, dlq: bool) -> None:
    if dlq:
        mq.create_queue(q, max_receives=3)  # DLQ "<q>-dlq"
    else:
        mq.create_queue(q)


@pytest.mark.parametrize("dlq", [False, True], ids=["no-dlq", "dlq"])
@pytest.mark.parametrize("kind", KINDS)
def test_receive_quarantines_poison_and_delivers_the_rest(
    front: Any, raw: redis.Redis, keys: Keys, kind: str, dlq: bool
) -> None:
    make_queue(front, "q", dlq)
    bad = plant(kind, front, raw, keys, "q")
    sent = {front.send("q", f"good {i}") for i in range(GOOD)}
    got = drain(lambda: front.receive_many("q", 10))
    assert {m.id for m in got} == sent
    assert all(m.body.startswith("good") for m in got)
    assert front.get_queue_attributes("q").msgs == GOOD  # the poison left the queue
    assert_quarantined(front, raw, keys, "q", bad, kind, dlq)


@pytest.mark.parametrize("dlq", [False, True], ids=["no-dlq", "dlq"])
@pytest.mark.parametrize("kind", KINDS)
def test_pop_quarantines_poison_and_delivers_the_rest(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, kind: str, dlq: bool
) -> None:
    make_queue(rsmq, "q", dlq)
    bad = plant(kind, rsmq, raw, keys, "q")
    sent = {rsmq.send("q", f"good {i}") for i in range(GOOD)}
    got = drain(lambda: rsmq.queue("q").pop_many(10))
    assert {m.id for m in got} == sent
    assert rsmq.get_queue_attributes("q").msgs == 0
    assert_quarantined(rsmq, raw, keys, "q", bad, kind, dlq)


def assert_quarantined(
    mq: Any, raw: redis.Redis, keys: Keys, q: str, bad: str, kind: str, dlq: bool
) -> None:
    k = keys.queue(q)
    assert raw.zscore(k.zset, bad) is None
    assert not raw.hexists(k.hash, bad)
    assert not raw.hexists(k.hash, f"{bad}:rc")
    if dlq:
        assert mq.failed(q).total == 0
        (dead,) = mq.peek(f"{q}-dlq")
        info = mq.dead_letter_info(f"{q}-dlq", dead.id)
        assert info is not None
        assert (info.queue, info.reason, info.error_type) == (q, kind, "PoisonMessage")
        assert info.error is not None
        assert info.error.startswith(kind)
        if kind == "invalid_id":
            assert dead.id != bad  # a valid id in the DLQ, so it can be handled there
            assert dead.raw == "bogus body"
        else:
            assert dead.id == bad
    else:
        (record,) = mq.failed(q).items
        assert (record.message_id, record.exc_type) == (bad, "PoisonMessage")
        assert record.error.startswith(kind)
        assert not record.dead_lettered
        expected = {"invalid_id": "bogus body", "malformed_rc": "poison", "missing_body": ""}
        assert record.raw == expected[kind]


def test_poison_never_blocks_a_batch_receive_on_a_queue_with_retention(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys
) -> None:
    """Retention takes the withholding path: an invalid id has no send time to expire by
    and must be quarantined, not dropped silently nor delivered."""
    rsmq.create_queue("q", retention=3600)
    plant("invalid_id", rsmq, raw, keys, "q")
    bad = plant("malformed_rc", rsmq, raw, keys, "q")
    sent = {rsmq.send("q", f"good {i}") for i in range(5)}
    assert {m.id for m in rsmq.receive_many("q", 5)} == sent
    records = rsmq.failed("q").items
    assert sorted(r.message_id for r in records) == sorted([BOGUS, bad])


def test_totalrecv_counts_only_what_was_delivered(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str
) -> None:
    plant("missing_body", rsmq, raw, keys, q)
    for i in range(3):
        rsmq.send(q, i)
    assert len(rsmq.receive_many(q, 10)) == 3
    assert rsmq.get_queue_attributes(q).totalrecv == 3


def test_failed_cap_zero_drops_the_poison(rsmq: RSMQ, raw: redis.Redis, keys: Keys) -> None:
    rsmq.create_queue("q", failed_cap=0)
    plant("malformed_rc", rsmq, raw, keys, "q")
    mid = rsmq.send("q", "good")
    assert [m.id for m in rsmq.receive_many("q", 5)] == [mid]
    assert rsmq.get_queue_attributes("q").msgs == 1
    assert rsmq.failed("q").total == 0


def undecodable(mq: Any, q: str) -> Any:
    """Receive a message whose body the queue's serializer cannot decode."""
    mq.send(q, "{not json", serializer="text")
    msg = mq.receive(q, serializer="json")
    assert msg is not None
    with pytest.raises(BodyDecodeError) as info:
        _ = msg.body
    return msg, info.value


@pytest.mark.parametrize("dlq", [False, True], ids=["no-dlq", "dlq"])
def test_failing_an_undecodable_body_quarantines_it_at_once(front: Any, dlq: bool) -> None:
    """Retrying a body that cannot be decoded only loops (forever without max_receives,
    a failure record per delivery): fail() of a BodyDecodeError quarantines it."""
    if dlq:
        front.create_queue("q", max_receives=5, retry=RetryPolicy.fixed(0))
    else:
        front.create_queue("q", retry=RetryPolicy.fixed(0))
    msg, err = undecodable(front, "q")
    good = front.send("q", "good")
    result = front.fail(msg.receipt, err, traceback="tb")
    assert result.retry_in is None
    assert result.dead_lettered is dlq
    assert [m.id for m in front.receive_many("q", 5, serializer="json")] == [good]
    assert front.get_queue_attributes("q").msgs == 1
    etype = "django_rsmq.engine.errors.BodyDecodeError"
    if dlq:
        assert result.record_id == ""
        (dead,) = front.peek("q-dlq")
        assert (dead.id, dead.raw) == (msg.id, "{not json")
        info = front.dead_letter_info("q-dlq", msg.id)
        assert info is not None
        assert (info.reason, info.error_type, info.rc) == ("undecodable", etype, 1)
    else:
        (record,) = front.failed("q").items
        assert record.id == result.record_id
        assert (record.message_id, record.raw, record.exc_type) == (msg.id, "{not json", etype)
        assert record.traceback == "tb"
        assert not record.dead_lettered


def test_quarantine_of_an_undecodable_body_is_fenced(rsmq: RSMQ, q: str) -> None:
    msg, err = undecodable(rsmq, q)
    rsmq.change_visibility(q, msg.id, 0)
    again = rsmq.receive(q, serializer="json")
    assert again is not None
    with pytest.raises(StaleReceipt):
        rsmq.fail(msg.receipt, err)
    assert rsmq.get_queue_attributes(q).msgs == 1
    rsmq.fail(again.receipt, err)
    assert rsmq.get_queue_attributes(q).msgs == 0


@pytest.mark.parametrize("vt", [0, 30])
def test_a_batch_receive_still_fills_up_past_poison(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str, vt: int
) -> None:
    """The quarantined ones do not count against ``count``; with vt 0 the messages just
    delivered stay visible and must not be delivered twice in the same call."""
    for kind in KINDS:
        plant(kind, rsmq, raw, keys, q)
    sent = [rsmq.send(q, f"good {i}") for i in range(8)]
    got = rsmq.receive_many(q, 5, vt=vt)
    assert len(got) == 5
    assert len({m.id for m in got}) == 5
    assert {m.id for m in got} <= set(sent)
    assert rsmq.failed(q).total == 3
