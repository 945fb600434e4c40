"""Queue deletion leaves nothing: our ``delete_queue`` removes every key of the queue, and
side data that a peer's ``deleteQueue`` leaves behind never reaches a recreated queue
(docs/reliability.md, "Side data and RSMQ peers")."""

from __future__ import annotations

import redis

from django_rsmq.engine import RSMQ
from django_rsmq.engine.keys import Keys
from django_rsmq.engine.throughput import sample_rates
from tests.engine.helpers import wait_for


def _all_keys(r: redis.Redis, ns: str) -> set[str]:
    return {k.decode() for k in r.scan_iter(f"{ns}:*", count=1000)}


def _with_side_data(rsmq: RSMQ, r: redis.Redis, qname: str = "q") -> str:
    """A queue with every kind of side data: dedup entries, a failure record, meta
    entries ({id}:lr, {id}:err) and counter samples. Returns the dedup'd message's id."""
    rsmq.create_queue(qname, max_receives=3)
    first = rsmq.send(qname, "a", dedup_id="k")
    m = rsmq.receive(qname)
    assert m is not None
    rsmq.fail(m.receipt, "boom")
    ns = rsmq.namespace
    sample_rates(r, Keys(ns), qname, 1, 1)
    # Every kind of side key is there, so that the tests mean something (names that any
    # layout of the dedup keys matches).
    side = {k for k in _all_keys(r, ns) if k.startswith(f"{ns}:{qname}:")} - {f"{ns}:{qname}:Q"}
    assert {f"{ns}:{qname}:meta", f"{ns}:{qname}:failed", f"{ns}:{qname}:failed:t"} <= side
    assert any(k.startswith(f"{ns}:{qname}:dedup") for k in side)
    assert r.exists(Keys(ns).counter_samples(qname))
    return first


def _peer_delete_queue(r: redis.Redis, ns: str, qname: str) -> None:
    """Exactly what Node rsmq's deleteQueue does (rsmq-wire-format.md): MULTI of
    DEL {ns}:{q}:Q {ns}:{q} and SREM {ns}:QUEUES q."""
    pipe = r.pipeline(transaction=True)
    pipe.delete(f"{ns}:{qname}:Q", f"{ns}:{qname}")
    pipe.srem(f"{ns}:QUEUES", qname)
    pipe.execute()


def _peer_create_queue(r: redis.Redis, ns: str, qname: str) -> None:
    """Node rsmq's createQueue: TIME, then MULTI of HSETNX vt/delay/maxsize/created/
    modified and SADD {ns}:QUEUES (no field of ours)."""
    now = str(r.time()[0])
    pipe = r.pipeline(transaction=True)
    for f, v in (("vt", "30"), ("delay", "0"), ("maxsize", "65536")):
        pipe.hsetnx(f"{ns}:{qname}:Q", f, v)
    pipe.hsetnx(f"{ns}:{qname}:Q", "created", now)
    pipe.hsetnx(f"{ns}:{qname}:Q", "modified", now)
    pipe.sadd(f"{ns}:QUEUES", qname)
    pipe.execute()


class TestOwnDeleteQueue:
    def test_leaves_no_key_of_the_queue(self, rsmq: RSMQ, redis_client: redis.Redis) -> None:
        ns = rsmq.namespace
        rsmq.create_queue("other")
        rsmq.send("other", "stays", dedup_id="k")
        _with_side_data(rsmq, redis_client)
        dlq = {f"{ns}:q-dlq:Q"}  # the DLQ is a queue of its own and stays
        before = _all_keys(redis_client, ns)
        rsmq.delete_queue("q")
        others = {k for k in before if ":other" in k or k in dlq} | {f"{ns}:QUEUES"}
        assert _all_keys(redis_client, ns) == others
        assert redis_client.smembers(f"{ns}:QUEUES") == {b"other", b"q-dlq"}

    def test_dedup_after_delete_and_recreate_enqueues_anew(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q")
        first = rsmq.send("q", "a", dedup_id="order-1")
        rsmq.delete_queue("q")
        rsmq.create_queue("q")
        again = rsmq.send("q", "b", dedup_id="order-1")
        assert again != first
        assert [p.id for p in rsmq.peek("q")] == [again]
        assert rsmq.send("q", "c", dedup_id="order-1") == again  # dedup works as before


class TestPeerDeleteQueue:
    def test_then_our_create_queue_inherits_nothing(
        self, rsmq: RSMQ, redis_client: redis.Redis
    ) -> None:
        ns = rsmq.namespace
        first = _with_side_data(rsmq, redis_client)
        _peer_delete_queue(redis_client, ns, "q")
        rsmq.create_queue("q")
        assert {k for k in _all_keys(redis_client, ns) if k.startswith(f"{ns}:q:")} == {f"{ns}:q:Q"}
        assert rsmq.failed("q").total == 0
        again = rsmq.send("q", "b", dedup_id="k")
        assert again != first
        assert rsmq.get_queue_attributes("q").msgs == 1

    def test_then_peer_recreate_our_send_dedup_enqueues(
        self, rsmq: RSMQ, redis_client: redis.Redis
    ) -> None:
        ns = rsmq.namespace
        first = _with_side_data(rsmq, redis_client)
        _peer_delete_queue(redis_client, ns, "q")
        _peer_create_queue(redis_client, ns, "q")
        again = rsmq.send("q", "b", dedup_id="k")
        assert again != first
        assert [p.id for p in rsmq.peek("q")] == [again]
        assert rsmq.send("q", "c", dedup_id="k") == again
        # A batch with a dedup id takes the same path.
        out = rsmq._run(rsmq.protocol.send_many("q", [_entry("x", "k")], rsmq.serializer))
        assert out[0].value == again

    def test_then_peer_recreate_failure_records_are_not_inherited(
        self, rsmq: RSMQ, redis_client: redis.Redis
    ) -> None:
        ns = rsmq.namespace
        _with_side_data(rsmq, redis_client)
        _peer_delete_queue(redis_client, ns, "q")
        _peer_create_queue(redis_client, ns, "q")
        assert rsmq.failed("q").total == 0  # a read drops the stale records
        assert not redis_client.exists(f"{ns}:q:failed:t")

    def test_then_peer_recreate_fail_records_only_the_new_failure(
        self, rsmq: RSMQ, redis_client: redis.Redis
    ) -> None:
        ns = rsmq.namespace
        _with_side_data(rsmq, redis_client)
        _peer_delete_queue(redis_client, ns, "q")
        _peer_create_queue(redis_client, ns, "q")
        mid = rsmq.send("q", "new")
        m = rsmq.receive("q")
        assert m is not None
        rsmq.fail(m.receipt, "second life")
        page = rsmq.failed("q")
        assert [(r.message_id, r.error) for r in page.items] == [(mid, "second life")]
        assert page.total == 1

    def test_then_peer_recreate_requeue_failed_sends_no_stale_record(
        self, rsmq: RSMQ, redis_client: redis.Redis
    ) -> None:
        ns = rsmq.namespace
        _with_side_data(rsmq, redis_client)
        _peer_delete_queue(redis_client, ns, "q")
        _peer_create_queue(redis_client, ns, "q")
        assert rsmq.requeue_failed("q").moved == []
        assert rsmq.get_queue_attributes("q").msgs == 0

    def test_twice_each_queue_sees_only_its_own_records(
        self, rsmq: RSMQ, redis_client: redis.Redis
    ) -> None:
        """Stamps are per queue life: the second recreated queue drops the first
        recreated queue's records too (they were stamped with its side-data id)."""
        ns = rsmq.namespace
        _with_side_data(rsmq, redis_client)
        for life in ("two", "three"):
            _peer_delete_queue(redis_client, ns, "q")
            _peer_create_queue(redis_client, ns, "q")
            rsmq.send("q", life, dedup_id="k")
            m = rsmq.receive("q")
            assert m is not None
            rsmq.fail(m.receipt, life)
            assert [r.error for r in rsmq.failed("q").items] == [life]
            assert rsmq.get_queue_attributes("q").msgs == 1

    def test_then_sweep_removes_every_side_key(self, rsmq: RSMQ, redis_client: redis.Redis) -> None:
        ns = rsmq.namespace
        _with_side_data(rsmq, redis_client)
        _peer_delete_queue(redis_client, ns, "q")
        rsmq.sweep("q")
        assert {k for k in _all_keys(redis_client, ns) if k.startswith(f"{ns}:q:")} == set()
        assert not redis_client.exists(Keys(ns).counter_samples("q"))


class TestDedupEntries:
    def test_sweep_removes_expired_entries(self, rsmq: RSMQ, redis_client: redis.Redis) -> None:
        rsmq.create_queue("q", dedup_window=60)
        q = rsmq.protocol.keys.queue("q")
        rsmq.send("q", "keep", dedup_id="live")
        rsmq.set_queue_attributes("q", dedup_window=0.05)
        for i in range(3):
            rsmq.send("q", "short", dedup_id=f"short-{i}")
        last = max(s for _, s in redis_client.zrange(q.dedup_index, 0, -1, withscores=True)[:-1])
        wait_for(lambda: _redis_ms(redis_client) > last, what="short entries to expire")
        rsmq.sweep("q")
        assert redis_client.zrange(q.dedup_index, 0, -1) == [b"live"]
        assert sorted(redis_client.hkeys(q.dedup)) == [b"", b"live"]  # "" is the stamp

    def test_send_prunes_expired_entries(self, rsmq: RSMQ, redis_client: redis.Redis) -> None:
        rsmq.create_queue("q", dedup_window=0.05)
        q = rsmq.protocol.keys.queue("q")
        rsmq._run(
            rsmq.protocol.send_many(
                "q", [_entry(f"m{i}", f"d{i}") for i in range(50)], rsmq.serializer
            )
        )
        assert redis_client.zcard(q.dedup_index) == 50
        last = redis_client.zrange(q.dedup_index, -1, -1, withscores=True)[0][1]
        wait_for(lambda: _redis_ms(redis_client) > last, what="entries to expire")
        rsmq.send("q", "next", dedup_id="fresh")
        assert redis_client.zrange(q.dedup_index, 0, -1) == [b"fresh"]
        assert sorted(redis_client.hkeys(q.dedup)) == [b"", b"fresh"]

    def test_a_shorter_window_does_not_cut_earlier_entries(
        self, rsmq: RSMQ, redis_client: redis.Redis
    ) -> None:
        rsmq.create_queue("q", dedup_window=300)
        q = rsmq.protocol.keys.queue("q")
        first = rsmq.send("q", "a", dedup_id="long")
        rsmq.set_queue_attributes("q", dedup_window=0.05)
        rsmq.send("q", "b", dedup_id="short")
        for key in (q.dedup, q.dedup_index):  # the keys live as long as their last entry
            assert redis_client.pttl(key) > 200_000
        assert rsmq.send("q", "c", dedup_id="long") == first

    def test_a_dedup_id_that_looks_like_a_stamp_or_a_key_suffix(self, rsmq: RSMQ) -> None:
        """Dedup ids are fields of one hash: ``t`` or ``:x`` are just ids."""
        rsmq.create_queue("q")
        ids = {d: rsmq.send("q", d, dedup_id=d) for d in ("t", ":x", "-t", "ext:sid")}
        assert len(set(ids.values())) == 4
        assert all(rsmq.send("q", "again", dedup_id=d) == mid for d, mid in ids.items())


def _entry(body: str, dedup_id: str) -> object:
    from django_rsmq.engine.protocol import Entry

    return Entry(body, dedup_id=dedup_id)


def _redis_ms(r: redis.Redis) -> float:
    s, us = r.time()
    return s * 1000 + us / 1000
