"""What the engine writes to Redis, inspected directly: RSMQ's layout to the byte
(spec §1-§5), and lenient reads of what PyRSMQ or other peers may have written."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis

from django_rsmq.engine import RSMQ, Keys, QueueExists, QueueNotFound
from django_rsmq.engine.ids import random_suffix, sent_ms
from django_rsmq.testing import TestRedis

from .helpers import ID_RE, b36, redis_ms, redis_us, wait_for


def _near(message_id: str, ms: float) -> bool:
    """The id's time part (the sender's clock) is within a second of ``ms`` (Redis')."""
    return abs(int(message_id[:10], 36) / 1000 - ms) < 1000


def all_keys(client: redis.Redis, namespace: str) -> set[str]:
    return set(client.scan_iter(match=f"{namespace}:*", count=1000))


def test_create_queue_writes_node_layout(rsmq: RSMQ, raw: redis.Redis, namespace: str) -> None:
    t0 = int(raw.time()[0])
    rsmq.create_queue("q")
    t1 = int(raw.time()[0])
    assert all_keys(raw, namespace) == {f"{namespace}:QUEUES", f"{namespace}:q:Q"}
    assert raw.type(f"{namespace}:QUEUES") == "set"
    assert raw.smembers(f"{namespace}:QUEUES") == {"q"}
    h = raw.hgetall(f"{namespace}:q:Q")
    assert set(h) == {"vt", "delay", "maxsize", "created", "modified"}
    assert (h["vt"], h["delay"], h["maxsize"]) == ("30", "0", "65536")
    assert h["created"] == h["modified"]
    assert t0 <= int(h["created"]) <= t1  # Redis TIME seconds


def test_custom_attributes_are_integer_strings(rsmq: RSMQ, raw: redis.Redis, keys: Keys) -> None:
    rsmq.create_queue("q", vt=15, delay=10, maxsize=-1)
    h = raw.hgetall(keys.queue("q").hash)
    assert (h["vt"], h["delay"], h["maxsize"]) == ("15", "10", "-1")
    rsmq.set_queue_attributes("q", vt=2.0, delay=0, maxsize=2048)
    h = raw.hgetall(keys.queue("q").hash)
    assert (h["vt"], h["delay"], h["maxsize"]) == ("2", "0", "2048")


def test_send_writes_zset_member_hash_field_and_counter(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str
) -> None:
    k = keys.queue(q)
    before = redis_us(raw)
    mid = rsmq.send(q, "héllo")
    after = redis_us(raw)
    assert ID_RE.fullmatch(mid)
    us = int(mid[:10], 36)
    # The id's time part is the sender's clock in µs (made before the call, so a replay
    # after a lost reply carries the same id); here one host, so between these reads.
    assert before <= us <= after
    assert mid[:10] == b36(us)
    score = raw.zscore(k.zset, mid)
    assert us // 1000 <= score <= after // 1000  # Redis TIME in integer ms, floored
    assert score == int(score)
    assert raw.zrange(k.zset, 0, -1, withscores=True) == [(mid, score)]
    h = raw.hgetall(k.hash)
    assert h[mid] == "héllo"
    assert h["totalsent"] == "1"
    assert f"{mid}:rc" not in h
    assert f"{mid}:fr" not in h
    assert "totalrecv" not in h  # created lazily, like Node
    assert sent_ms(mid) == us / 1000


def test_send_delay_is_added_to_the_ms_score(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str
) -> None:
    for delay, extra in ((2.5, 2500), (0.001, 1), (7, 7000), (0.0004, 0)):
        before = redis_ms(raw)
        mid = rsmq.send(q, "x", delay=delay)
        score = raw.zscore(keys.queue(q).zset, mid)
        assert before + extra <= score <= redis_ms(raw) + extra  # Redis TIME ms + delay
        assert score == int(score)
        assert _near(mid, score - extra)


def test_queue_default_delay_is_used(rsmq: RSMQ, raw: redis.Redis, keys: Keys) -> None:
    rsmq.create_queue("q", delay=3)
    before = redis_ms(raw)
    mid = rsmq.send("q", "x")
    assert before + 3000 <= raw.zscore(keys.queue("q").zset, mid) <= redis_ms(raw) + 3000
    before = redis_ms(raw)
    mid = rsmq.send("q", "x", delay=0)
    assert before <= raw.zscore(keys.queue("q").zset, mid) <= redis_ms(raw)


def test_receive_writes_rc_fr_and_hides_for_vt(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str
) -> None:
    k = keys.queue(q)
    mid = rsmq.send(q, "x")
    msg = rsmq.receive(q)
    assert msg is not None
    h = raw.hgetall(k.hash)
    assert h[f"{mid}:rc"] == "1"
    assert h[f"{mid}:fr"] == str(msg.fr)  # integer ms string
    assert h["totalrecv"] == "1"
    assert raw.zscore(k.zset, mid) == msg.fr + 30_000  # queue vt
    raw.zadd(k.zset, {mid: 0})  # make it visible again
    t0 = redis_ms(raw)
    msg2 = rsmq.receive(q, vt=0.25)
    t1 = redis_ms(raw)
    assert msg2 is not None
    assert raw.hget(k.hash, f"{mid}:rc") == "2"
    # the per-call vt counts from the second receive's "now"; fr stays the first receive
    assert t0 + 250 <= raw.zscore(k.zset, mid) <= t1 + 250
    assert raw.hget(k.hash, f"{mid}:fr") == str(msg.fr)
    assert msg2.fr == msg.fr


def test_delete_removes_member_and_three_fields(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str
) -> None:
    k = keys.queue(q)
    mid = rsmq.send(q, "x")
    rsmq.receive(q)
    assert rsmq.delete(q, mid) is True
    assert raw.zcard(k.zset) == 0
    h = raw.hgetall(k.hash)
    assert not {mid, f"{mid}:rc", f"{mid}:fr"} & set(h)
    assert (h["totalsent"], h["totalrecv"]) == ("1", "1")


def test_pop_removes_and_never_stores_fr(rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str) -> None:
    k = keys.queue(q)
    mid = rsmq.send(q, "x")
    before = redis_ms(raw)
    msg = rsmq.pop(q)
    assert msg is not None
    assert (msg.id, msg.rc) == (mid, 1)
    assert before <= msg.fr <= redis_ms(raw)  # "now" for rc == 1, as Node
    assert raw.zcard(k.zset) == 0
    assert set(raw.hgetall(k.hash)) == {
        "vt", "delay", "maxsize", "created", "modified", "totalsent", "totalrecv"
    }  # fmt: skip


def test_delete_queue_removes_every_key(rsmq: RSMQ, raw: redis.Redis, namespace: str) -> None:
    rsmq.create_queue("q")
    rsmq.create_queue("keep")
    rsmq.send("q", "x")
    rsmq.receive("q")
    rsmq.delete_queue("q")
    assert all_keys(raw, namespace) == {f"{namespace}:QUEUES", f"{namespace}:keep:Q"}
    assert raw.smembers(f"{namespace}:QUEUES") == {"keep"}


def test_empty_namespace_prefixes_a_colon_like_node(
    test_redis: TestRedis, raw: redis.Redis
) -> None:
    qname = f"emptyns{random_suffix()}"
    mq = RSMQ(test_redis.client(), namespace="")
    mq.create_queue(qname)
    try:
        mid = mq.send(qname, "x")
        assert raw.sismember(":QUEUES", qname)
        assert raw.hget(f":{qname}:Q", mid) == "x"
        assert raw.zscore(f":{qname}", mid) is not None
        assert not raw.exists(f"{qname}:Q")  # PyRSMQ's spelling for ns=""
    finally:
        mq.delete_queue(qname)
        mq.client.close()


def test_realtime_publishes_post_send_zcard(test_redis: TestRedis, namespace: str) -> None:
    mq = RSMQ(test_redis.client(), namespace=namespace, realtime=True)
    quiet = RSMQ(test_redis.client(), namespace=namespace)
    mq.create_queue("q")
    sub = test_redis.client(decode_responses=True).pubsub()
    sub.subscribe(f"{namespace}:rt:q")
    assert sub.get_message(timeout=2)["type"] == "subscribe"

    def next_payload() -> Any:
        m = wait_for(lambda: sub.get_message(timeout=0.1), what="a realtime message")
        return (m["channel"], m["data"])

    try:
        mq.send("q", "a")
        assert next_payload() == (f"{namespace}:rt:q", "1")
        quiet.send("q", "b")  # a non-realtime instance publishes nothing
        mq.send("q", "c", delay=5)  # delayed messages count too (ZCARD)
        assert next_payload() == (f"{namespace}:rt:q", "3")
        mq.receive("q")
        mq.create_queue("other")
        mq.send("other", "x")
        assert sub.get_message(timeout=0.05) is None  # other channel, and receive is silent
    finally:
        sub.close()
        mq.client.close()
        quiet.client.close()


def test_realtime_batch_publishes_once_with_the_final_count(
    test_redis: TestRedis, namespace: str
) -> None:
    mq = RSMQ(test_redis.client(), namespace=namespace, realtime=True)
    mq.create_queue("q")
    sub = test_redis.client(decode_responses=True).pubsub()
    sub.subscribe(f"{namespace}:rt:q")
    assert sub.get_message(timeout=2)["type"] == "subscribe"
    try:
        mq.send("q", "first")
        out = mq._run(mq.protocol.send_many("q", ["a", "b", "c"], mq.serializer))
        assert all(o.ok for o in out)
        got = [wait_for(lambda: sub.get_message(timeout=0.1))["data"] for _ in range(2)]
        assert got == ["1", "4"]
        assert sub.get_message(timeout=0.05) is None
    finally:
        sub.close()
        mq.client.close()


def test_message_id_time_part_orders_like_the_score(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str
) -> None:
    ids = [rsmq.send(q, str(i)) for i in range(20)]
    assert ids == sorted(ids)
    assert len({m[:10] for m in ids}) == 20
    scores = [raw.zscore(keys.queue(q).zset, m) for m in ids]
    # The id is made by the client (its clock), the score is Redis TIME: one sender's
    # ids and scores both grow, and on one host they agree to well within a second.
    assert scores == sorted(scores)
    assert all(_near(m, score) for m, score in zip(ids, scores, strict=True))


# -- lenient reads of values other RSMQ clients write ----------------------------------------


def test_fractional_vt_and_delay_written_by_pyrsmq(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str
) -> None:
    k = keys.queue(q)
    raw.hset(k.hash, mapping={"vt": "1.5", "delay": "0.5"})
    attrs = rsmq.get_queue_attributes(q)
    assert (attrs.vt, attrs.delay) == (1.5, 0.5)
    before = redis_ms(raw)
    mid = rsmq.send(q, "x")
    assert before + 500 <= raw.zscore(k.zset, mid) <= redis_ms(raw) + 500
    rsmq.change_visibility(q, mid, 0)
    msg = rsmq.receive(q)
    assert msg is not None
    assert raw.zscore(k.zset, mid) == msg.fr + 1500


def test_pyrsmq_maxsize_65565_is_enforced_as_read(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str
) -> None:
    raw.hset(keys.queue(q).hash, "maxsize", "65565")
    assert rsmq.get_queue_attributes(q).maxsize == 65565
    rsmq.send(q, "a" * 65565)
    with pytest.raises(Exception, match="65566 bytes, maxsize is 65565"):
        rsmq.send(q, "a" * 65566)


def test_missing_counters_and_times_read_as_zero(rsmq: RSMQ, raw: redis.Redis, keys: Keys) -> None:
    k = keys.queue("q")
    raw.hset(k.hash, mapping={"vt": "30", "delay": "0", "maxsize": "65536"})
    attrs = rsmq.get_queue_attributes("q")
    assert (attrs.totalsent, attrs.totalrecv, attrs.created, attrs.modified) == (0, 0, 0, 0)
    assert attrs.msgs == 0


def test_queue_hash_not_in_queues_set_still_works(rsmq: RSMQ, raw: redis.Redis, keys: Keys) -> None:
    """Existence is the hash's vt/delay/maxsize (as Node), not QUEUES membership."""
    k = keys.queue("stray")
    raw.hset(k.hash, mapping={"vt": "30", "delay": "0", "maxsize": "1024"})
    assert "stray" not in rsmq.list_queues()
    mid = rsmq.send("stray", "x")
    msg = rsmq.receive("stray")
    assert msg is not None
    assert msg.id == mid
    assert rsmq.get_queue_attributes("stray").totalsent == 1
    with pytest.raises(QueueExists):
        rsmq.create_queue("stray")
    rsmq.delete_queue("stray")
    assert not raw.exists(k.hash)


def test_incomplete_queue_hash_is_not_a_queue(rsmq: RSMQ, raw: redis.Redis, keys: Keys) -> None:
    raw.hset(keys.queue("half").hash, mapping={"vt": "30", "delay": "0"})
    with pytest.raises(QueueNotFound):
        rsmq.send("half", "x")
    with pytest.raises(QueueNotFound):
        rsmq.get_queue_attributes("half")


def test_message_without_fr_after_first_receive(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str
) -> None:
    """A peer that bumped rc but never wrote fr: we report fr 0 instead of failing."""
    k = keys.queue(q)
    mid = rsmq.send(q, "x")
    raw.hset(k.hash, f"{mid}:rc", "3")
    msg = rsmq.receive(q)
    assert msg is not None
    assert (msg.rc, msg.fr) == (4, 0)


def test_foreign_message_with_non_rsmq_id(rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str) -> None:
    k = keys.queue(q)
    mid = "!" * 32
    raw.hset(k.hash, mid, "x")
    raw.zadd(k.zset, {mid: 0})
    # Not an id any RSMQ client could ack (InvalidName): poison, quarantined instead of
    # delivered over and over (docs/reliability.md "Poison data").
    assert rsmq.receive(q) is None
    assert raw.zcard(k.zset) == 0
    assert not raw.hexists(k.hash, mid)
    (record,) = rsmq.failed(q).items
    assert (record.message_id, record.raw, record.exc_type) == (mid, "x", "PoisonMessage")
    assert record.error.startswith("invalid_id")


def test_concurrent_creates_one_wins(test_redis: TestRedis, namespace: str) -> None:
    results: list[str] = []

    def create() -> None:
        mq = RSMQ(test_redis.client(), namespace=namespace)
        try:
            mq.create_queue("race", vt=7)
            results.append("created")
        except QueueExists:
            results.append("exists")
        finally:
            mq.client.close()

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results) == ["created"] + ["exists"] * 7
