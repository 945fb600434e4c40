"""The batch-capable core (protocol): several messages per script call, one outcome
per entry, bad entries refused without stopping the good ones."""

from __future__ import annotations

import pytest
import redis

from django_rsmq.engine import (
    RSMQ,
    InvalidName,
    InvalidValue,
    Keys,
    MessageNotFound,
    MessageTooLong,
    QueueNotFound,
    SerializationError,
    StaleReceipt,
)
from django_rsmq.engine.protocol import Entry, Outcome

from .helpers import ID_RE, next_ms


def test_send_many_mixed_entries(rsmq: RSMQ, raw: redis.Redis, keys: Keys) -> None:
    rsmq.create_queue("b", maxsize=1024)
    p, s = rsmq.protocol, rsmq.serializer
    out = rsmq._run(
        p.send_many(
            "b",
            [
                "a",
                Entry("late", delay=50),
                "x" * 1025,
                Entry("bad", delay=-1),
                object(),
                "\ud800",  # not encodable as UTF-8
                {"j": 1},
            ],
            s,
        )
    )
    assert [o.ok for o in out] == [True, True, False, False, False, False, True]
    assert isinstance(out[2].error, MessageTooLong)
    assert (out[2].error.size, out[2].error.maxsize) == (1025, 1024)
    assert isinstance(out[3].error, InvalidValue)
    assert isinstance(out[4].error, SerializationError)
    assert isinstance(out[5].error, SerializationError)
    ids = [o.value for o in out if o.ok]
    assert all(ID_RE.fullmatch(i or "") for i in ids)
    attrs = rsmq.get_queue_attributes("b")
    assert (attrs.msgs, attrs.totalsent, attrs.delayed) == (3, 3, 1)
    zset = keys.queue("b").zset
    a, late, _ = ids
    assert raw.zscore(zset, late) == raw.zscore(zset, a) + 50_000
    with pytest.raises(MessageTooLong):
        out[2].unwrap()
    assert out[0].unwrap() == a


def test_send_many_keeps_fifo_order_and_distinct_time_parts(rsmq: RSMQ, q: str) -> None:
    out = rsmq._run(rsmq.protocol.send_many(q, [str(i) for i in range(300)], rsmq.serializer))
    ids = [o.unwrap() for o in out]
    assert ids == sorted(ids)
    assert len({i[:10] for i in ids}) == 300  # TIME + n µs per entry
    got = rsmq._run(rsmq.protocol.receive(q, rsmq.serializer, count=300))
    assert [m.id for m in got] == ids
    assert [m.body for m in got] == [str(i) for i in range(300)]


def test_send_many_default_delay_and_missing_queue(rsmq: RSMQ, q: str) -> None:
    out = rsmq._run(
        rsmq.protocol.send_many(q, ["a", Entry("b", delay=0)], rsmq.serializer, delay=60)
    )
    assert all(o.ok for o in out)
    assert [m.raw for m in rsmq._run(rsmq.protocol.receive(q, rsmq.serializer, count=10))] == ["b"]
    with pytest.raises(QueueNotFound):
        rsmq._run(rsmq.protocol.send_many("missing", ["a"], rsmq.serializer))


def test_receive_and_pop_count(rsmq: RSMQ, raw: redis.Redis, q: str) -> None:
    for i in range(5):
        rsmq.send(q, str(i))
    p, s = rsmq.protocol, rsmq.serializer
    next_ms(raw)  # vt 0 re-scores to "now": make it later than every send's score
    got = rsmq._run(p.receive(q, s, count=3, vt=0))
    assert [m.raw for m in got] == ["0", "1", "2"]
    assert all(m.rc == 1 and m.receipt.endswith(":1") for m in got)
    popped = rsmq._run(p.pop(q, s, count=10))
    assert [m.raw for m in popped] == ["3", "4", "0", "1", "2"]
    assert rsmq._run(p.pop(q, s, count=10)) == []
    assert rsmq._run(p.receive(q, s, count=10)) == []
    assert rsmq.get_queue_attributes(q).totalrecv == 8


def test_ack_many_groups_by_queue(rsmq: RSMQ) -> None:
    p, s = rsmq.protocol, rsmq.serializer
    for name in ("a", "b"):
        rsmq.create_queue(name)
        for i in range(3):
            rsmq.send(name, f"{name}{i}")
    ma = rsmq._run(p.receive("a", s, count=3, vt=0))
    mb = rsmq._run(p.receive("b", s, count=3))
    ma2 = rsmq._run(p.receive("a", s, count=1))  # a0 delivered again: its first receipt is stale
    calls = p.ack_many([*ma, *mb])
    assert set(calls) == {"a", "b"}
    res_a = rsmq._run(calls["a"])
    res_b = rsmq._run(calls["b"])
    assert [o.ok for o in res_b] == [True, True, True]
    assert isinstance(res_a[0].error, StaleReceipt)
    assert [o.ok for o in res_a[1:]] == [True, True]
    assert rsmq.get_queue_attributes("b").msgs == 0
    assert rsmq.get_queue_attributes("a").msgs == 1
    res = rsmq._run(p.ack_many(ma2)["a"])
    assert res == [Outcome(None)]
    res = rsmq._run(p.ack_many(ma2)["a"])
    assert isinstance(res[0].error, MessageNotFound)


def test_delete_many_and_change_visibility_many(rsmq: RSMQ, q: str) -> None:
    p = rsmq.protocol
    ids = [rsmq.send(q, str(i)) for i in range(3)]
    out = rsmq._run(p.change_visibility_many(q, [*ids, "x" * 32, "bad"], 60))
    assert [o.value for o in out[:4]] == [True, True, True, False]
    assert isinstance(out[4].error, InvalidName)
    assert rsmq.receive(q) is None
    out = rsmq._run(p.delete_many(q, [ids[0], ids[0], "bad", ids[2]]))
    assert [o.value for o in out] == [True, False, None, True]
    assert isinstance(out[2].error, InvalidName)
    assert rsmq.get_queue_attributes(q).msgs == 1


def test_change_visibility_by_receipt_many(rsmq: RSMQ, q: str) -> None:
    p, s = rsmq.protocol, rsmq.serializer
    for i in range(3):
        rsmq.send(q, str(i))
    msgs = rsmq._run(p.receive(q, s, count=3))
    rsmq.delete(q, msgs[1].id)
    out = rsmq._run(p.change_visibility_by_receipt_many(msgs, 0)[q])
    assert out[0].ok
    assert isinstance(out[1].error, MessageNotFound)
    assert out[2].ok
    assert len(rsmq._run(p.receive(q, s, count=10))) == 2
