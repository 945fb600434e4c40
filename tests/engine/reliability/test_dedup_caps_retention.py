"""De-duplication, max_messages caps and retention."""

from __future__ import annotations

import pytest
import redis

from django_rsmq.engine import RSMQ, InvalidValue, QueueFull
from django_rsmq.engine.protocol import Entry
from tests.engine.helpers import wait_for
from tests.engine.reliability.helpers import finish, python

PRODUCER = """
import sys
from django_rsmq.engine import RSMQ, QueueFull
url, ns, mode, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
r = RSMQ(url, namespace=ns)
for i in range(n):
    try:
        if mode == "dedup":
            print("id", r.send("q", f"body{i}", dedup_id=f"key{i % 10}"))
        else:
            print("id", r.send("q", f"body{i}"))
    except QueueFull:
        print("full")
"""


def _send_many(rsmq: RSMQ, entries: list[object]):  # type: ignore[no-untyped-def]
    return rsmq._run(rsmq.protocol.send_many("q", entries, rsmq.serializer))


class TestDedup:
    def test_duplicate_returns_the_first_id_and_enqueues_nothing(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q")
        first = rsmq.send("q", "a", dedup_id="order-1")
        assert rsmq.send("q", "b", dedup_id="order-1") == first
        other = rsmq.send("q", "c", dedup_id="order-2")
        assert other != first
        assert rsmq.get_queue_attributes("q").totalsent == 2
        # Still a duplicate after the first message was consumed (it is a time window).
        rsmq.ack(rsmq.receive("q").receipt)  # type: ignore[union-attr]
        assert rsmq.send("q", "d", dedup_id="order-1") == first

    def test_window_expires(self, rsmq: RSMQ, redis_client: redis.Redis) -> None:
        rsmq.create_queue("q", dedup_window=0.2)
        first = rsmq.send("q", "a", dedup_id="k")
        k = rsmq.protocol.keys.queue("q")
        expiry = redis_client.zscore(k.dedup_index, "k")
        assert redis_client.hget(k.dedup, "k") == f"{int(expiry)}:{first}".encode()
        for key in (k.dedup, k.dedup_index):  # both keys go with their last entry
            assert 0 < redis_client.pttl(key) <= 200
        wait_for(lambda: rsmq.send("q", "b", dedup_id="k") != first, what="window end")
        assert rsmq.get_queue_attributes("q").msgs == 2

    def test_batch_outcomes_per_entry(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q", max_messages=3)
        out = _send_many(
            rsmq,
            [
                Entry("a", dedup_id="x"),
                Entry("b", dedup_id="x"),  # duplicate inside the batch
                "c",
                Entry("d", dedup_id="y"),
                "e",  # over the cap
            ],
        )
        assert out[1].value == out[0].value
        assert out[2].ok
        assert out[3].ok
        assert isinstance(out[4].error, QueueFull)
        assert rsmq.get_queue_attributes("q").msgs == 3

    def test_bad_dedup_id(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q")
        for bad in ("", "x" * 129, 5):
            with pytest.raises(InvalidValue):
                rsmq.send("q", "a", dedup_id=bad)  # type: ignore[arg-type]
        assert rsmq.get_queue_attributes("q").msgs == 0

    @pytest.mark.slow
    def test_holds_under_concurrent_producer_processes(
        self, rsmq: RSMQ, test_redis: object
    ) -> None:
        rsmq.create_queue("q")
        url = test_redis.url  # type: ignore[attr-defined]
        procs = [python(PRODUCER, url, rsmq.namespace, "dedup", "40") for _ in range(4)]
        outs = [finish(p) for p in procs]
        ids = {line.split()[1] for out in outs for line in out.splitlines()}
        assert len(ids) == 10  # one message per dedup id, whoever sent it first
        assert rsmq.get_queue_attributes("q").msgs == 10
        assert {p.id for p in rsmq.peek("q", limit=100)} == ids


class TestCap:
    def test_queue_full_enqueues_nothing(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q", max_messages=2)
        rsmq.send("q", "a")
        rsmq.send("q", "b")
        with pytest.raises(QueueFull) as exc:
            rsmq.send("q", "c")
        assert exc.value.max_messages == 2
        assert rsmq.get_queue_attributes("q").msgs == 2
        # in-flight messages count; acking makes room
        m = rsmq.receive("q")
        with pytest.raises(QueueFull):
            rsmq.send("q", "c")
        rsmq.ack(m.receipt)  # type: ignore[union-attr]
        rsmq.send("q", "c")

    def test_a_duplicate_on_a_full_queue_is_not_an_error(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q", max_messages=1)
        first = rsmq.send("q", "a", dedup_id="k")
        assert rsmq.send("q", "a", dedup_id="k") == first

    @pytest.mark.slow
    def test_holds_under_concurrent_producer_processes(
        self, rsmq: RSMQ, test_redis: object
    ) -> None:
        rsmq.create_queue("q", max_messages=25)
        url = test_redis.url  # type: ignore[attr-defined]
        procs = [python(PRODUCER, url, rsmq.namespace, "plain", "20") for _ in range(4)]
        lines = [line for p in procs for line in finish(p).splitlines()]
        assert sum(1 for line in lines if line.startswith("id")) == 25
        assert sum(1 for line in lines if line == "full") == 80 - 25
        assert rsmq.get_queue_attributes("q").msgs == 25


class TestRetention:
    def test_expired_messages_are_dropped_on_receive(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q", retention=0.15)
        old = rsmq.send("q", "old")
        wait_for(lambda: _age_over(rsmq, old, 0.16), what="message to age")
        new = rsmq.send("q", "new")
        m = rsmq.receive("q")
        assert m is not None
        assert m.id == new
        assert [p.id for p in rsmq.peek("q")] == [new]  # old dropped, never delivered
        assert rsmq.get_queue_attributes("q").msgs == 1

    def test_dead_letter_action(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q", retention=0, retention_action="dead_letter")
        mid = rsmq.send("q", "x")
        assert rsmq.receive("q") is None
        info = rsmq.dead_letter_info("q-dlq", mid)
        assert info is not None
        assert info.reason == "retention"

    def test_purge_expired_pages_through_the_queue(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q")
        ids = [
            e.unwrap() for b in (0, 1) for e in _send_many(rsmq, [f"m{b}{i}" for i in range(600)])
        ]
        assert rsmq.purge_expired("q") == 0  # no retention set: nothing expires
        rsmq.set_queue_attributes("q", retention=3600)
        assert rsmq.purge_expired("q") == 0
        rsmq.set_queue_attributes("q", retention=0)
        assert rsmq.purge_expired("q") == len(ids)
        assert rsmq.get_queue_attributes("q").msgs == 0


def _age_over(rsmq: RSMQ, mid: str, seconds: float) -> bool:
    from django_rsmq.engine import ids

    now_s, now_us = rsmq.client.time()
    return (now_s * 1000 + now_us / 1000) - ids.sent_ms(mid) > seconds * 1000
