"""Queue operations and attributes: rsmq's "Queues" suite, every counter, Redis clock."""

from __future__ import annotations

import pytest
import redis

from django_rsmq.engine import RSMQ, Keys, QueueAttributes, QueueExists, QueueNotFound
from django_rsmq.engine.ids import random_suffix
from django_rsmq.engine.protocol import Entry

from .helpers import b36, redis_us, snapshot


def test_node_queues_suite(rsmq: RSMQ) -> None:
    assert rsmq.list_queues() == []
    rsmq.create_queue("test1")
    with pytest.raises(QueueExists, match="Queue exists: 'test1'") as info:
        rsmq.create_queue("test1")
    assert info.value.code == "queueExists"
    assert rsmq.list_queues() == ["test1"]
    rsmq.create_queue("test2", maxsize=2048)
    assert rsmq.list_queues() == ["test1", "test2"]
    attrs = rsmq.get_queue_attributes("test1")
    assert attrs.msgs == 0
    with pytest.raises(QueueNotFound, match="Queue not found"):
        rsmq.get_queue_attributes("bogus")
    with pytest.raises(QueueNotFound):
        rsmq.set_queue_attributes("bogus", vt=1234)
    attrs = rsmq.set_queue_attributes("test1", vt=1234)
    assert (attrs.vt, attrs.delay, attrs.maxsize) == (1234, 0, 65536)
    attrs = rsmq.set_queue_attributes("test1", delay=7)
    assert (attrs.vt, attrs.delay, attrs.maxsize) == (1234, 7, 65536)
    assert rsmq.set_queue_attributes("test1", maxsize=-1).maxsize == -1
    assert rsmq.set_queue_attributes("test1", maxsize=2048).maxsize == 2048
    attrs = rsmq.set_queue_attributes("test1", maxsize=65536, vt=30, delay=0)
    assert (attrs.vt, attrs.delay, attrs.maxsize) == (30, 0, 65536)


def test_create_queue_defaults_and_custom(rsmq: RSMQ) -> None:
    rsmq.create_queue("a")
    rsmq.create_queue("b", vt=15, delay=10, maxsize=1024)
    a, b = rsmq.get_queue_attributes("a"), rsmq.get_queue_attributes("b")
    assert (a.vt, a.delay, a.maxsize) == (30, 0, 65536)
    assert (b.vt, b.delay, b.maxsize) == (15, 10, 1024)


def test_create_existing_queue_writes_nothing(rsmq: RSMQ, raw: redis.Redis, namespace: str) -> None:
    """Node's HSETNX chain would still add missing fields; we refuse without writing."""
    rsmq.create_queue("q", vt=5)
    rsmq.send("q", "x")
    before = snapshot(raw, namespace)
    with pytest.raises(QueueExists):
        rsmq.create_queue("q", vt=99, delay=3, maxsize=2048)
    assert snapshot(raw, namespace) == before


def test_delete_queue(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    rsmq.send("q", "x")
    rsmq.delete_queue("q")
    assert rsmq.list_queues() == []
    with pytest.raises(QueueNotFound):
        rsmq.get_queue_attributes("q")
    with pytest.raises(QueueNotFound):
        rsmq.delete_queue("q")
    rsmq.create_queue("q")  # a deleted queue can be created again, empty
    attrs = rsmq.get_queue_attributes("q")
    assert (attrs.msgs, attrs.totalsent) == (0, 0)


def test_list_queues_is_per_namespace(
    rsmq: RSMQ, redis_client: redis.Redis, namespace: str
) -> None:
    other = RSMQ(redis_client, namespace=namespace + "x")
    rsmq.create_queue("mine")
    other.create_queue("theirs")
    assert rsmq.list_queues() == ["mine"]
    assert other.list_queues() == ["theirs"]


def test_created_and_modified_come_from_redis_time(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys
) -> None:
    t0 = redis_us(raw) // 1_000_000
    rsmq.create_queue("q")
    attrs = rsmq.get_queue_attributes("q")
    t1 = redis_us(raw) // 1_000_000
    assert t0 <= attrs.created == attrs.modified <= t1
    # push the stored times into the past, without waiting a second
    raw.hset(keys.queue("q").hash, mapping={"created": "1000", "modified": "1000"})
    t0 = redis_us(raw) // 1_000_000
    attrs = rsmq.set_queue_attributes("q", delay=7)
    t1 = redis_us(raw) // 1_000_000
    assert attrs.created == 1000  # untouched
    assert t0 <= attrs.modified <= t1


def test_fresh_queue_counters(rsmq: RSMQ, q: str) -> None:
    attrs = rsmq.get_queue_attributes(q)
    assert (
        attrs.totalrecv,
        attrs.totalsent,
        attrs.msgs,
        attrs.hiddenmsgs,
        attrs.visible,
        attrs.in_flight,
        attrs.delayed,
        attrs.oldest_age,
    ) == (0, 0, 0, 0, 0, 0, 0, None)


def test_counters_track_every_state(rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str) -> None:
    k = keys.queue(q)
    visible = [rsmq.send(q, f"v{i}") for i in range(3)]
    delayed = [rsmq.send(q, f"d{i}", delay=100) for i in range(2)]
    inflight = rsmq.send(q, "f")
    for mid in visible:  # visible since long ago: not "hidden" even within this second
        raw.zadd(k.zset, {mid: 1000})
    raw.zadd(k.zset, {inflight: 999})  # first in line
    msg = rsmq.receive(q, vt=100)
    assert msg is not None
    assert msg.id == inflight
    attrs = rsmq.get_queue_attributes(q)
    assert (attrs.msgs, attrs.visible, attrs.in_flight, attrs.delayed) == (6, 3, 1, 2)
    assert attrs.visible + attrs.in_flight + attrs.delayed == attrs.msgs
    assert attrs.hiddenmsgs == 3
    assert (attrs.totalsent, attrs.totalrecv) == (6, 1)
    # a received message whose vt expired is visible again, not in flight
    rsmq.change_visibility(q, inflight, 0)
    attrs = rsmq.get_queue_attributes(q)
    assert (attrs.visible, attrs.in_flight, attrs.delayed) == (4, 0, 2)
    # a delayed message that was received before is "in flight" once hidden again
    rsmq.change_visibility(q, inflight, 50)
    assert rsmq.get_queue_attributes(q).in_flight == 1
    rsmq.pop(q)
    rsmq.delete(q, delayed[0])
    attrs = rsmq.get_queue_attributes(q)
    assert (attrs.msgs, attrs.visible, attrs.in_flight, attrs.delayed) == (4, 2, 1, 1)
    assert (attrs.totalsent, attrs.totalrecv) == (6, 2)


def test_hiddenmsgs_counts_from_the_start_of_the_second_like_node(rsmq: RSMQ, q: str) -> None:
    """Node: ZCOUNT from "<sec>000": a message that became visible this second is hidden."""
    rsmq.send(q, "x")
    attrs = rsmq.get_queue_attributes(q)
    assert attrs.visible == 1
    assert attrs.hiddenmsgs in (0, 1)  # 1 unless the second turned over in between


def test_hidden_messages_written_by_a_plain_client(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str
) -> None:
    """Hidden messages a plain RSMQ client wrote (some received, with an rc): the hidden
    count is exact at any size; the in-flight count only knows django-rsmq's receives (the
    in-flight index, test_queue_counts.py), so these all count as delayed."""
    k = keys.queue(q)
    mapping = {}
    fields = {}
    for i in range(2100):
        mid = f"{i:010d}{random_suffix()}"
        mapping[mid] = 10**13  # hidden far into the future
        fields[mid] = "x"
        if i % 3 == 0:
            fields[f"{mid}:rc"] = "1"
    raw.zadd(k.zset, mapping)
    raw.hset(k.hash, mapping=fields)
    attrs = rsmq.get_queue_attributes(q)
    assert (attrs.msgs, attrs.in_flight, attrs.delayed, attrs.visible) == (2100, 0, 2100, 0)


def test_oldest_age(rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str) -> None:
    assert rsmq.get_queue_attributes(q).oldest_age is None
    rsmq.send(q, "hidden", delay=100)
    assert rsmq.get_queue_attributes(q).oldest_age is None  # nothing visible
    # a visible message sent 10 s ago (id time part 10 s back)
    k = keys.queue(q)
    sent_us = redis_us(raw) - 10_000_000
    mid = b36(sent_us) + random_suffix()
    raw.hset(k.hash, mid, "old")
    raw.zadd(k.zset, {mid: sent_us // 1000})
    rsmq.send(q, "new")
    age = rsmq.get_queue_attributes(q).oldest_age
    assert age is not None
    assert 9.99 <= age < 15  # now is floored to the ms, the sent time is not
    rsmq.delete(q, mid)
    age = rsmq.get_queue_attributes(q).oldest_age
    assert age is not None
    assert 0 <= age < 5


def test_attributes_as_dict(rsmq: RSMQ, q: str) -> None:
    attrs = rsmq.get_queue_attributes(q)
    d = attrs.as_dict()
    assert set(d) == {
        "vt", "delay", "maxsize", "totalrecv", "totalsent", "created", "modified", "msgs",
        "hiddenmsgs", "visible", "in_flight", "delayed", "oldest_age",
        # reliability settings (docs/reliability.md)
        "max_receives", "dead_letter_queue", "retry", "retention", "retention_action",
        "max_messages", "dedup_window", "failed_cap", "failed_ttl",
        "paused",  # pause_queue()
        "rate_limit", "max_in_flight",
    }  # fmt: skip
    assert QueueAttributes(**d) == attrs


def test_purge(rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str) -> None:
    entries = [Entry(str(i), delay=(100 if i % 2 else 0)) for i in range(1203)]
    for start in (0, 1000):  # more than one internal page of 500
        rsmq._run(rsmq.protocol.send_many(q, entries[start : start + 1000], rsmq.serializer))
    rsmq.receive(q)
    assert rsmq.purge(q) == 1203
    attrs = rsmq.get_queue_attributes(q)
    assert (attrs.msgs, attrs.totalsent, attrs.totalrecv) == (0, 1203, 1)  # counters kept
    assert set(raw.hgetall(keys.queue(q).hash)) == {
        "vt", "delay", "maxsize", "created", "modified", "totalsent", "totalrecv"
    }  # fmt: skip
    assert rsmq.purge(q) == 0
    assert rsmq.list_queues() == [q]
    with pytest.raises(QueueNotFound):
        rsmq.purge("missing")


def test_queue_handle(rsmq: RSMQ) -> None:
    h = rsmq.queue("jobs", serializer="json")
    assert "jobs" in repr(h)
    h.create(vt=5)
    assert h.attributes().vt == 5
    assert h.set_attributes(delay=1).delay == 1
    h.set_attributes(delay=0)
    mid = h.send({"n": 1})
    peeked = h.peek()
    assert [p.id for p in peeked] == [mid]
    msg = h.receive()
    assert msg is not None
    assert msg.body == {"n": 1}
    assert h.change_visibility(mid, 0) is True
    again = h.receive()
    assert again is not None
    h.ack(again)
    mid = h.send([1])
    assert h.delete(mid) is True
    h.send(2)
    popped = h.pop()
    assert popped is not None
    assert popped.body == 2  # JSON serializer decodes scalars too
    h.send(3)
    assert h.purge() == 1
    h.delete_queue()
    assert rsmq.list_queues() == []
