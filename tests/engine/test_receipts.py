"""Receipts fence one delivery: ack and change_visibility_by_receipt refuse a stale one."""

from __future__ import annotations

import pickle

import pytest
import redis

from django_rsmq.engine import (
    RSMQ,
    InvalidName,
    Keys,
    Message,
    MessageNotFound,
    QueueNotFound,
    Receipt,
    StaleReceipt,
)

from .helpers import redis_ms, snapshot, wait_for


def receive(rsmq: RSMQ, q: str, vt: float = 30) -> Message:
    msg = rsmq.receive(q, vt=vt)
    assert msg is not None
    return msg


def test_ack_deletes_the_delivered_message(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str
) -> None:
    mid = rsmq.send(q, "x")
    msg = receive(rsmq, q)
    rsmq.ack(msg.receipt)
    assert raw.zcard(keys.queue(q).zset) == 0
    assert not raw.hexists(keys.queue(q).hash, mid)
    with pytest.raises(MessageNotFound, match=f"Message '{mid}' not found in queue 'q'") as info:
        rsmq.ack(msg.receipt)  # twice
    assert (info.value.qname, info.value.message_id, info.value.code) == (q, mid, "messageNotFound")


def test_ack_accepts_message_receipt_object_and_string(rsmq: RSMQ, q: str) -> None:
    for _ in range(3):
        rsmq.send(q, "x")
    a, b, c = receive(rsmq, q), receive(rsmq, q), receive(rsmq, q)
    rsmq.ack(a)
    rsmq.ack(Receipt.parse(b.receipt))
    rsmq.ack(str(Receipt(q, c.id, c.rc)))
    assert rsmq.get_queue_attributes(q).msgs == 0


def test_stale_receipt_after_redelivery(
    rsmq: RSMQ, raw: redis.Redis, namespace: str, q: str
) -> None:
    rsmq.send(q, "x")
    first = receive(rsmq, q, vt=0)  # visible again at once: "redelivered" by the next receive
    second = receive(rsmq, q, vt=30)
    assert (first.rc, second.rc) == (1, 2)
    before = snapshot(raw, namespace)
    with pytest.raises(StaleReceipt) as info:
        rsmq.ack(first.receipt)
    err = info.value
    assert (err.qname, err.message_id, err.receipt_rc, err.current_rc) == (q, first.id, 1, 2)
    assert err.code == "staleReceipt"
    assert "delivery 1" in str(err)
    assert "now delivery 2" in str(err)
    with pytest.raises(StaleReceipt):
        rsmq.change_visibility_by_receipt(first.receipt, 0)
    assert snapshot(raw, namespace) == before  # the stale consumer changed nothing
    rsmq.ack(second.receipt)  # the current delivery still can
    assert rsmq.get_queue_attributes(q).msgs == 0


def test_stale_after_real_vt_expiry(rsmq: RSMQ, q: str) -> None:
    rsmq.send(q, "x")
    first = receive(rsmq, q, vt=0.05)
    second = wait_for(lambda: rsmq.receive(q, vt=30), timeout=2)
    with pytest.raises(StaleReceipt):
        rsmq.ack(first)
    rsmq.ack(second)


def test_receipt_after_delete_or_pop(rsmq: RSMQ, q: str) -> None:
    mid = rsmq.send(q, "x")
    msg = receive(rsmq, q)
    assert rsmq.delete(q, mid) is True  # bare-id delete stays available (RSMQ)
    with pytest.raises(MessageNotFound):
        rsmq.ack(msg.receipt)
    with pytest.raises(MessageNotFound):
        rsmq.change_visibility_by_receipt(msg.receipt, 0)
    rsmq.send(q, "y")
    msg = receive(rsmq, q, vt=0)
    assert rsmq.pop(q) is not None
    with pytest.raises(MessageNotFound):
        rsmq.ack(msg)


def test_change_visibility_by_receipt(rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str) -> None:
    rsmq.send(q, "x")
    msg = receive(rsmq, q)
    t0 = redis_ms(raw)
    rsmq.change_visibility_by_receipt(msg.receipt, 0.5)
    t1 = redis_ms(raw)
    assert t0 + 500 <= raw.zscore(keys.queue(q).zset, msg.id) <= t1 + 500
    # extending the visibility keeps the receipt valid: rc did not move
    rsmq.change_visibility_by_receipt(msg, 100)
    assert rsmq.receive(q) is None
    rsmq.change_visibility_by_receipt(msg, 0)
    again = receive(rsmq, q)
    assert again.rc == 2
    with pytest.raises(StaleReceipt):
        rsmq.change_visibility_by_receipt(msg, 0)
    rsmq.ack(again)


def test_change_visibility_by_id_keeps_the_receipt_valid(rsmq: RSMQ, q: str) -> None:
    mid = rsmq.send(q, "x")
    msg = receive(rsmq, q)
    assert rsmq.change_visibility(q, mid, 60) is True
    rsmq.ack(msg)


def test_fencing_stores_nothing_extra(rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str) -> None:
    mid = rsmq.send(q, "x")
    receive(rsmq, q, vt=0)
    receive(rsmq, q)
    fields = set(raw.hgetall(keys.queue(q).hash)) - {
        "vt", "delay", "maxsize", "created", "modified", "totalsent", "totalrecv"
    }  # fmt: skip
    assert fields == {mid, f"{mid}:rc", f"{mid}:fr"}


def test_ack_on_missing_queue(rsmq: RSMQ, q: str) -> None:
    rsmq.send(q, "x")
    msg = receive(rsmq, q)
    rsmq.delete_queue(q)
    with pytest.raises(MessageNotFound):
        rsmq.ack(msg)
    with pytest.raises(QueueNotFound):
        rsmq.change_visibility_by_receipt(msg, 0)


def test_receipt_parse_and_str() -> None:
    mid = "hoe86i1536WjRSjD6jFRHh13dj9wyI1e"
    r = Receipt.parse(f"jobs:{mid}:12")
    assert (r.queue, r.id, r.rc) == ("jobs", mid, 12)
    assert str(r) == f"jobs:{mid}:12"
    assert Receipt.parse(r) is r
    assert pickle.loads(pickle.dumps(r)) == r
    # ids may contain ":" (Node's id rule): the rc is after the last colon
    colon_id = "a:" * 16
    assert Receipt.parse(f"q:{colon_id}:3") == Receipt("q", colon_id, 3)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "q",
        "q:" + "a" * 32,
        "q:" + "a" * 32 + ":",
        "q:" + "a" * 31 + ":1",
        ":" + "a" * 32 + ":1",
        "q:" + "a" * 32 + ":x",
        "q:" + "a" * 32 + ":-1",
        "q:" + "a" * 32 + ":²",  # a unicode digit, not an int
        None,
        5,
    ],
)
def test_invalid_receipts(rsmq: RSMQ, value: object) -> None:
    with pytest.raises(InvalidName, match="Invalid receipt"):
        Receipt.parse(value)  # type: ignore[arg-type]
    with pytest.raises(InvalidName):
        rsmq.ack(value)  # type: ignore[arg-type]


def test_popped_message_has_no_receipt(rsmq: RSMQ, q: str) -> None:
    rsmq.send(q, "x")
    msg = rsmq.pop(q)
    assert msg is not None
    assert msg.receipt == ""
    with pytest.raises(InvalidName):
        rsmq.ack(msg)


@pytest.mark.parametrize("settle", ["fail", "nack"])
def test_fail_and_nack_spend_the_receipt_for_extensions(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str, settle: str
) -> None:
    # A consumer's keeper may still be extending a message while its fail()/nack() is
    # applied: an extension landing after it must not hide the message past their delay.
    mid = rsmq.send(q, "x")
    msg = receive(rsmq, q)
    if settle == "fail":
        rsmq.fail(msg, "boom")  # no retry policy: receivable again at once
    else:
        rsmq.nack(msg, delay=0)
    with pytest.raises(StaleReceipt):
        rsmq.change_visibility_by_receipt(msg, 60)
    again = receive(rsmq, q)  # not hidden by the late extension
    assert (again.id, again.rc) == (mid, 2)
    rsmq.change_visibility_by_receipt(again, 60)  # the next delivery's receipt works
    rsmq.ack(again)
    assert not [f for f in raw.hkeys(keys.queue(q).meta) if f.startswith(mid)]
