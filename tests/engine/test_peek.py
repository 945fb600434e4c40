"""peek: a non-destructive, paged browse in visibility order."""

from __future__ import annotations

import pytest
import redis

from django_rsmq.engine import RSMQ, InvalidValue, Keys, MessageNotFound, QueueNotFound

from .helpers import redis_ms, snapshot


def test_peek_changes_nothing(rsmq: RSMQ, raw: redis.Redis, namespace: str, q: str) -> None:
    rsmq.send(q, "a")
    rsmq.send(q, "b", delay=100)
    rsmq.send(q, "c")
    rsmq.receive(q, vt=50)
    before = snapshot(raw, namespace)
    attrs = rsmq.get_queue_attributes(q)
    for _ in range(3):
        rsmq.peek(q)
        rsmq.peek(q, offset=1, limit=1)
    assert snapshot(raw, namespace) == before
    after = rsmq.get_queue_attributes(q)
    assert (after.totalrecv, after.totalsent, after.visible, after.in_flight) == (
        attrs.totalrecv,
        attrs.totalsent,
        attrs.visible,
        attrs.in_flight,
    )


def test_peek_order_and_states(rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str) -> None:
    a = rsmq.send(q, "a")
    b = rsmq.send(q, "b", delay=100)
    c = rsmq.send(q, {"c": 1})
    received = rsmq.receive(q, vt=50)  # a, now in flight
    assert received is not None
    now = redis_ms(raw)
    peeked = rsmq.peek(q)
    assert [p.id for p in peeked] == [c, a, b]  # visibility order: c now, a +50 s, b +100 s
    pc, pa, pb = peeked
    assert (pc.state, pc.rc, pc.fr, pc.body, pc.raw) == ("visible", 0, None, {"c": 1}, '{"c":1}')
    assert (pa.state, pa.rc, pa.fr, pa.body) == ("in_flight", 1, received.fr, "a")
    assert (pb.state, pb.rc, pb.fr, pb.body) == ("delayed", 0, None, "b")
    assert pc.visible_at <= now
    assert pa.visible_at == raw.zscore(keys.queue(q).zset, a)
    assert pb.visible_at == raw.zscore(keys.queue(q).zset, b)
    assert pa.sent == int(a[:10], 36) / 1000
    assert all(p.queue == q for p in peeked)


def test_peek_pages(rsmq: RSMQ, q: str) -> None:
    ids = [rsmq.send(q, str(i)) for i in range(25)]
    pages = [rsmq.peek(q, offset=o, limit=10) for o in (0, 10, 20)]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [m.id for page in pages for m in page] == ids
    assert rsmq.peek(q, offset=25) == []
    assert rsmq.peek(q, offset=1000, limit=1000) == []
    assert [m.id for m in rsmq.peek(q)] == ids[:20]  # default limit 20
    assert len(rsmq.peek(q, limit=1000)) == 25
    assert rsmq.peek(q, offset=2**53 - 1) == []
    for bad in (-1, 2**53, 10**30, 1.0, True):
        with pytest.raises(InvalidValue, match="offset"):
            rsmq.peek(q, offset=bad)  # type: ignore[arg-type]


def test_peek_message_by_id(rsmq: RSMQ, q: str) -> None:
    mid = rsmq.send(q, "x", delay=10)
    p = rsmq.peek_message(q, mid)
    assert (p.id, p.body, p.state, p.rc) == (mid, "x", "delayed", 0)
    rsmq.delete(q, mid)
    with pytest.raises(MessageNotFound):
        rsmq.peek_message(q, mid)
    with pytest.raises(QueueNotFound):
        rsmq.peek_message("missing", mid)


def test_peek_empty_and_missing_queue(rsmq: RSMQ, q: str) -> None:
    assert rsmq.peek(q) == []
    with pytest.raises(QueueNotFound):
        rsmq.peek("missing")


def test_peek_with_serializer(rsmq: RSMQ, q: str) -> None:
    rsmq.send(q, "[1, 2]")
    assert rsmq.peek(q)[0].body == [1, 2]
    assert rsmq.peek(q, serializer="text")[0].body == "[1, 2]"
