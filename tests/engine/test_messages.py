"""Send, receive, pop, delete and change_visibility: rsmq's "Messages" suite and more."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from django_rsmq.engine import RSMQ, Keys, MessageTooLong, QueueNotFound
from django_rsmq.engine.ids import sent_ms
from django_rsmq.testing import TestRedis

from .helpers import ID_RE, next_ms, redis_ms, wait_for


def test_receive_returns_the_full_message(rsmq: RSMQ, raw: redis.Redis, q: str) -> None:
    mid = rsmq.send(q, "hello")
    t0 = redis_ms(raw)
    msg = rsmq.receive(q)
    t1 = redis_ms(raw)
    assert msg is not None
    assert (msg.queue, msg.id, msg.body, msg.raw, msg.rc) == (q, mid, "hello", "hello", 1)
    assert t0 <= msg.fr <= t1
    assert msg.sent == sent_ms(mid) == int(mid[:10], 36) / 1000
    # sent: the client-made id's µs; fr: Redis TIME floored to the ms (same clock here)
    assert msg.sent < msg.fr + 1
    assert msg.receipt == f"{q}:{mid}:1"


def test_nothing_to_receive_or_pop(rsmq: RSMQ, q: str) -> None:
    assert rsmq.receive(q) is None
    assert rsmq.pop(q) is None
    attrs = rsmq.get_queue_attributes(q)
    assert (attrs.totalrecv, attrs.msgs) == (0, 0)


def test_send_to_missing_queue(rsmq: RSMQ) -> None:
    with pytest.raises(QueueNotFound, match="Queue not found"):
        rsmq.send("missing", "x")


def test_fifo_order(rsmq: RSMQ, q: str) -> None:
    ids = [rsmq.send(q, f"m{i}") for i in range(50)]
    got = [rsmq.receive(q) for _ in range(50)]
    assert [m.id for m in got if m] == ids
    assert [m.body for m in got if m] == [f"m{i}" for i in range(50)]
    assert rsmq.receive(q) is None


def test_1000_concurrent_sends_have_unique_ids(test_redis: TestRedis, namespace: str) -> None:
    mq = RSMQ(test_redis.client(max_connections=32), namespace=namespace)
    mq.create_queue("q")
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            ids = list(pool.map(lambda i: mq.send("q", f"m{i}"), range(1000)))
        assert len(ids) == len(set(ids)) == 1000
        assert all(len(m) == 32 and ID_RE.fullmatch(m) for m in ids)
        attrs = mq.get_queue_attributes("q")
        assert (attrs.msgs, attrs.totalsent) == (1000, 1000)
        # The client makes each id just before its call (a replay after a lost reply
        # carries the same one): its time part is this host's clock, the score Redis
        # TIME, so concurrent sends may reach Redis in another order than their ids,
        # but each id's time is its send time (one host: same clock, within the call).
        zset = mq.protocol.keys.queue("q").zset
        for mid, score in mq.client.zrange(zset, 0, -1, withscores=True):
            assert abs(sent_ms(mid.decode()) - score) < 1000
    finally:
        mq.client.close()


@pytest.mark.parametrize("op", ["receive", "pop"])
def test_concurrent_consumers_never_share_a_message(
    test_redis: TestRedis, namespace: str, op: str
) -> None:
    mq = RSMQ(test_redis.client(max_connections=16), namespace=namespace)
    mq.create_queue("q")
    try:
        sent = {mq.send("q", str(i)) for i in range(400)}

        def drain(_: int) -> list[str]:
            got = []
            while (msg := getattr(mq, op)("q")) is not None:
                got.append(msg.id)
            return got

        with ThreadPoolExecutor(max_workers=8) as pool:
            batches = list(pool.map(drain, range(8)))
        received = [mid for batch in batches for mid in batch]
        assert len(received) == len(set(received)) == 400
        assert set(received) == sent
        assert mq.get_queue_attributes("q").totalrecv == 400
    finally:
        mq.client.close()


def test_vt_expiry_redelivers_with_rc_and_fr(rsmq: RSMQ, q: str) -> None:
    mid = rsmq.send(q, "x")
    first = rsmq.receive(q, vt=0.2)
    assert first is not None
    assert (first.id, first.rc) == (mid, 1)
    assert rsmq.receive(q) is None  # hidden
    second = wait_for(lambda: rsmq.receive(q, vt=0.05), timeout=2, what="redelivery")
    assert (second.id, second.rc, second.fr) == (mid, 2, first.fr)
    assert second.receipt == f"{q}:{mid}:2"
    third = wait_for(lambda: rsmq.receive(q, vt=30), timeout=2, what="redelivery")
    assert (third.rc, third.fr) == (3, first.fr)
    assert rsmq.get_queue_attributes(q).totalrecv == 3


def test_node_promise_suite_ordering(rsmq: RSMQ) -> None:
    """rsmq's Promise test: queue vt 0, two messages, hidden for different vts."""
    rsmq.create_queue("p", vt=0, maxsize=-1)
    assert rsmq.get_queue_attributes("p").maxsize == -1
    rsmq.send("p", "Hello")
    rsmq.send("p", "World")
    hello = rsmq.receive("p", vt=0.6)
    world = rsmq.receive("p", vt=0.3)
    assert (hello and hello.body, world and world.body) == ("Hello", "World")
    assert rsmq.receive("p") is None
    again = wait_for(lambda: rsmq.receive("p", vt=5), timeout=2)
    assert (again.body, again.rc) == ("World", 2)
    again = wait_for(lambda: rsmq.receive("p", vt=5), timeout=2)
    assert (again.body, again.rc) == ("Hello", 2)


def test_vt_zero_leaves_the_message_visible(rsmq: RSMQ, raw: redis.Redis) -> None:
    rsmq.create_queue("z", vt=0)
    mid = rsmq.send("z", "x")
    for rc in (1, 2, 3):
        msg = rsmq.receive("z")
        assert msg is not None
        assert (msg.id, msg.rc) == (mid, rc)
    msg = rsmq.receive("z", vt=0)
    assert msg is not None
    assert msg.rc == 4


def test_per_call_vt_overrides_the_queue_vt(rsmq: RSMQ) -> None:
    rsmq.create_queue("v", vt=0)
    rsmq.send("v", "x")
    assert rsmq.receive("v", vt=30) is not None
    assert rsmq.receive("v") is None


def test_delayed_message_becomes_visible_after_the_delay(
    rsmq: RSMQ, raw: redis.Redis, q: str
) -> None:
    mid = rsmq.send(q, "late", delay=0.3)
    sent = int(mid[:10], 36) // 1000
    assert rsmq.receive(q) is None
    msg = wait_for(lambda: rsmq.receive(q), timeout=2, what="the delayed message")
    assert msg.id == mid
    assert msg.fr >= sent + 300
    assert msg.rc == 1


def test_queue_default_delay_hides_new_messages(rsmq: RSMQ) -> None:
    rsmq.create_queue("d", delay=100)
    mid = rsmq.send("d", "x")
    assert rsmq.receive("d") is None
    assert rsmq.get_queue_attributes("d").delayed == 1
    now = rsmq.send("d", "now", delay=0)  # per-call delay wins
    msg = rsmq.receive("d")
    assert msg is not None
    assert msg.id == now
    rsmq.change_visibility("d", mid, 0)
    msg = rsmq.receive("d")
    assert msg is not None
    assert (msg.id, msg.rc) == (mid, 1)


def test_pop(rsmq: RSMQ, q: str) -> None:
    m1 = rsmq.send(q, "m1")
    m2 = rsmq.send(q, "m2")
    popped = rsmq.pop(q)
    assert popped is not None
    assert (popped.id, popped.body, popped.rc, popped.receipt) == (m1, "m1", 1, "")
    attrs = rsmq.get_queue_attributes(q)
    assert (attrs.msgs, attrs.totalrecv) == (1, 1)
    received = rsmq.receive(q, vt=0)
    assert received is not None
    popped = rsmq.pop(q)
    assert popped is not None
    # pop of a message that was received before reports its rc and first-receive time
    assert (popped.id, popped.rc, popped.fr) == (m2, 2, received.fr)
    assert rsmq.pop(q) is None
    attrs = rsmq.get_queue_attributes(q)
    assert (attrs.msgs, attrs.totalrecv, attrs.totalsent) == (0, 3, 2)


def test_pop_skips_hidden_messages(rsmq: RSMQ, q: str) -> None:
    hidden = rsmq.send(q, "hidden", delay=60)
    visible = rsmq.send(q, "visible")
    popped = rsmq.pop(q)
    assert popped is not None
    assert popped.id == visible
    assert rsmq.pop(q) is None
    assert [m.id for m in rsmq.peek(q)] == [hidden]


def test_delete_twice(rsmq: RSMQ, q: str) -> None:
    mid = rsmq.send(q, "x")
    assert rsmq.delete(q, mid) is True
    assert rsmq.delete(q, mid) is False
    assert rsmq.get_queue_attributes(q).msgs == 0


def test_delete_received_and_unreceived(rsmq: RSMQ, q: str) -> None:
    a = rsmq.send(q, "a")
    b = rsmq.send(q, "b")
    rsmq.receive(q)
    assert rsmq.delete(q, a) is True  # received: body, rc, fr
    assert rsmq.delete(q, b) is True  # never received: body only (PyRSMQ would say False)
    assert rsmq.delete(q, "x" * 32) is False


def test_delete_on_missing_queue_is_false_like_node(rsmq: RSMQ) -> None:
    assert rsmq.delete("missing", "x" * 32) is False


def test_change_visibility(rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str) -> None:
    assert rsmq.change_visibility(q, "x" * 32, 10) is False  # missing id -> 0
    m1 = rsmq.send(q, "m1")
    m2 = rsmq.send(q, "m2")
    received = rsmq.receive(q)
    assert received is not None
    assert received.id == m1
    assert rsmq.change_visibility(q, m2, 10) is True  # works on a never-received message
    assert rsmq.receive(q) is None
    assert rsmq.change_visibility(q, m2, 0) is True
    msg = rsmq.receive(q)
    assert msg is not None
    assert (msg.id, msg.rc) == (m2, 1)  # rc untouched by change_visibility
    assert rsmq.receive(q) is None
    # making an in-flight message visible again, rc/fr untouched until the next receive
    assert rsmq.change_visibility(q, m1, 0) is True
    h = raw.hgetall(keys.queue(q).hash)
    assert (h[f"{m1}:rc"], h[f"{m1}:fr"]) == ("1", str(received.fr))
    again = rsmq.receive(q)
    assert again is not None
    assert (again.id, again.rc, again.fr) == (m1, 2, received.fr)
    assert rsmq.delete(q, m1) is True
    assert rsmq.change_visibility(q, m1, 0) is False  # deleted -> 0


def test_change_visibility_sets_the_score_from_now(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str
) -> None:
    mid = rsmq.send(q, "x", delay=1000)
    t0 = redis_ms(raw)
    assert rsmq.change_visibility(q, mid, 0.2)
    t1 = redis_ms(raw)
    assert t0 + 200 <= raw.zscore(keys.queue(q).zset, mid) <= t1 + 200


def test_change_visibility_on_missing_queue(rsmq: RSMQ) -> None:
    with pytest.raises(QueueNotFound):
        rsmq.change_visibility("missing", "x" * 32, 1)


def test_empty_and_unicode_bodies_round_trip(rsmq: RSMQ, q: str) -> None:
    bodies = ["", " ", "é", "日本語", "😀" * 10, "a\x00b", "line\nbreak", "{not json"]
    for body in bodies:
        rsmq.send(q, body)
    got = [rsmq.receive(q) for _ in bodies]
    assert [m.body for m in got if m] == bodies


# -- maxsize, counted in UTF-8 bytes ----------------------------------------------------------


def test_maxsize_counts_utf8_bytes(rsmq: RSMQ) -> None:
    rsmq.create_queue("m", maxsize=1024)
    rsmq.send("m", "a" * 1024)
    rsmq.send("m", "é" * 512)  # 1024 bytes, 512 characters
    rsmq.send("m", "😀" * 256)  # 1024 bytes, 256 characters (512 UTF-16 units)
    for body, size in (
        ("a" * 1025, 1025),
        ("é" * 513, 1026),
        ("é" * 512 + "a", 1025),
        ("😀" * 257, 1028),
    ):
        with pytest.raises(MessageTooLong) as info:
            rsmq.send("m", body)
        assert (info.value.size, info.value.maxsize, info.value.qname) == (size, 1024, "m")
        assert f"{size} bytes, maxsize is 1024" in str(info.value)
        assert info.value.code == "messageTooLong"
    # Node would accept 1000 x "é" (1000 UTF-16 units); we count its 2000 bytes
    with pytest.raises(MessageTooLong):
        rsmq.send("m", "é" * 1000)
    attrs = rsmq.get_queue_attributes("m")
    assert (attrs.msgs, attrs.totalsent) == (3, 3)  # nothing of the refused ones stored


def test_default_maxsize_boundary(rsmq: RSMQ, q: str) -> None:
    rsmq.send(q, "a" * 65536)
    with pytest.raises(MessageTooLong, match="65537 bytes, maxsize is 65536"):
        rsmq.send(q, "a" * 65537)
    with pytest.raises(MessageTooLong):  # rsmq's test: JSON of [0..15000]
        rsmq.send(q, json.dumps(list(range(15001))))


def test_maxsize_change_applies_to_the_next_send(rsmq: RSMQ, q: str) -> None:
    rsmq.set_queue_attributes(q, maxsize=2048)
    with pytest.raises(MessageTooLong):
        rsmq.send(q, "a" * 2049)
    rsmq.set_queue_attributes(q, maxsize=-1)
    rsmq.send(q, "a" * 2049)


def test_bodies_over_64k_with_unlimited_maxsize(rsmq: RSMQ) -> None:
    rsmq.create_queue("big", maxsize=-1)
    bodies = [json.dumps(list(range(15001))), "é" * 100_000, "x" * (1 << 20)]
    ids = [rsmq.send("big", b) for b in bodies]
    for mid, body in zip(ids, bodies, strict=True):
        msg = rsmq.receive("big")
        assert msg is not None
        assert (msg.id, msg.raw) == (mid, body)


# -- rsmq's test.coffee "Messages" sequence, end to end ----------------------------------------


def test_node_messages_suite(rsmq: RSMQ, raw: redis.Redis) -> None:
    rsmq.create_queue("test1")
    rsmq.create_queue("test2", maxsize=2048)
    m1 = rsmq.send("test1", "Hello")
    ids = [rsmq.send("test2", f"test message number:{i}") for i in range(1000)]
    assert len(set(ids)) == 1000
    m2 = rsmq.send("test1", "World")
    a = rsmq.receive("test1")
    b = rsmq.receive("test1")
    assert (a and a.id, b and b.id) == (m1, m2)
    attrs = rsmq.get_queue_attributes("test1")
    assert (attrs.msgs, attrs.hiddenmsgs) == (2, 2)
    m3 = rsmq.send("test1", "Another World")
    attrs = rsmq.get_queue_attributes("test1")
    assert (attrs.msgs, attrs.totalrecv) == (3, 2)
    popped = rsmq.pop("test1")
    assert popped is not None
    assert popped.id == m3
    attrs = rsmq.get_queue_attributes("test1")
    assert (attrs.msgs, attrs.totalrecv) == (2, 3)
    assert rsmq.pop("test1") is None
    assert rsmq.change_visibility("test1", "abcdefghij0123456789abcdefghij01", 10) is False
    assert rsmq.change_visibility("test1", m2, 10) is True
    assert rsmq.receive("test1") is None
    assert rsmq.change_visibility("test1", m2, 0) is True
    again = rsmq.receive("test1")
    assert again is not None
    assert again.id == m2
    assert rsmq.receive("test1") is None
    assert rsmq.delete("test1", m1) is True
    assert rsmq.delete("test1", m1) is False
    assert rsmq.change_visibility("test1", m1, 10) is False

    # receive all 1000 with vt 0 and delete the even ones, then the odd ones
    next_ms(raw)  # so a vt-0 receive never ties with the last send's ms score
    seen: list[str] = []
    for _ in range(1000):
        msg = rsmq.receive("test2", vt=0)
        assert msg is not None
        seen.append(msg.id)
        if int(msg.body.rsplit(":", 1)[1]) % 2 == 0:
            assert rsmq.delete("test2", msg.id) is True
    assert seen == ids
    assert rsmq.get_queue_attributes("test2").msgs == 500
    odd: list[str] = []
    for _ in range(500):
        msg = rsmq.receive("test2", vt=0)
        assert msg is not None
        odd.append(msg.id)
        assert rsmq.delete("test2", msg.id) is True
    assert sorted(odd) == sorted(ids[1::2])
    assert rsmq.receive("test2") is None
    attrs = rsmq.get_queue_attributes("test2")
    assert (attrs.totalrecv, attrs.totalsent, attrs.msgs) == (1500, 1000, 0)
    rsmq.set_queue_attributes("test2", maxsize=-1)
    big = json.dumps(list(range(15001)))
    big_id = rsmq.send("test2", big)
    msg = rsmq.receive("test2")
    assert msg is not None
    assert (msg.id, msg.body) == (big_id, json.loads(big))  # auto serializer decodes JSON
    assert msg.raw == big
