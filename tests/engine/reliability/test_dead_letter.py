"""max_receives and the dead-letter queue: moved inside receive, never delivered again."""

from __future__ import annotations

import threading

import pytest
import redis

from django_rsmq.engine import RSMQ, InvalidValue, MessageNotFound
from django_rsmq.engine.message import Message
from tests.engine.helpers import wait_for


def _recv(rsmq: RSMQ, q: str = "q", vt: float = 30) -> Message:
    m = rsmq.receive(q, vt=vt)
    assert m is not None
    return m


def test_vt_expiry_counts_and_the_next_receive_dead_letters(rsmq: RSMQ) -> None:
    rsmq.create_queue("q", max_receives=2)
    mid = rsmq.send("q", "x")
    first = _recv(rsmq, vt=0.1)
    second = wait_for(lambda: rsmq.receive("q", vt=0.1), what="redelivery after vt")
    assert (first.rc, second.rc) == (1, 2)
    # The third receive finds it visible again but moves it instead of delivering it.
    wait_for(lambda: rsmq.get_queue_attributes("q").visible, what="vt expiry")
    assert rsmq.receive("q") is None
    assert rsmq.get_queue_attributes("q").msgs == 0
    info = rsmq.dead_letter_info("q-dlq", mid)
    assert info is not None
    assert (info.queue, info.rc, info.reason, info.error) == ("q", 2, "max_receives", None)
    assert info.first_received == first.fr
    assert info.last_received is not None
    assert info.last_received >= second.fr
    dl = _recv(rsmq, "q-dlq")
    assert (dl.id, dl.raw, dl.rc) == (mid, "x", 1)


def test_nack_counts_like_a_crash(rsmq: RSMQ) -> None:
    rsmq.create_queue("q", max_receives=3)
    mid = rsmq.send("q", "x")
    for rc in (1, 2, 3):
        m = _recv(rsmq)
        assert m.rc == rc
        rsmq.nack(m.receipt, delay=0)
    assert rsmq.receive("q") is None
    assert rsmq.peek("q-dlq")[0].id == mid


def test_batch_receive_skips_dead_lettered_and_fills_the_batch(rsmq: RSMQ) -> None:
    rsmq.create_queue("q", max_receives=1)
    worn = [rsmq.send("q", f"w{i}") for i in range(3)]
    for _ in worn:
        rsmq.nack(_recv(rsmq).receipt, delay=0)
    fresh = [rsmq.send("q", f"f{i}") for i in range(3)]
    # the engine's batch receive (count=3) through the protocol core
    got = rsmq._run(rsmq.protocol.receive("q", rsmq.serializer, count=3))
    assert [m.id for m in got] == fresh
    assert sorted(m.id for m in rsmq.peek("q-dlq")) == sorted(worn)


def test_pop_withholds_too(rsmq: RSMQ) -> None:
    rsmq.create_queue("q", max_receives=1)
    mid = rsmq.send("q", "x")
    rsmq.nack(_recv(rsmq).receipt, delay=0)
    assert rsmq.pop("q") is None
    assert rsmq.peek("q-dlq")[0].id == mid


def test_ack_and_delete_leave_no_side_data(rsmq: RSMQ, redis_client: redis.Redis) -> None:
    rsmq.create_queue("q", max_receives=5)
    a, b = rsmq.send("q", "a"), rsmq.send("q", "b")
    ma = _recv(rsmq)
    rsmq.fail(ma.receipt, "e")
    rsmq.ack(_recv(rsmq).receipt)
    mb = _recv(rsmq)
    rsmq.delete("q", mb.id)
    assert {a, b} >= {ma.id, mb.id}
    assert redis_client.hlen(f"{rsmq.namespace}:q:meta") == 0


class TestRedrive:
    def _dead(self, rsmq: RSMQ, n: int, q: str = "q") -> list[str]:
        ids = [rsmq.send(q, f"m{i}") for i in range(n)]
        for _ in ids:
            m = _recv(rsmq, q)
            rsmq.fail(m.receipt, "boom")
        assert rsmq.get_queue_attributes(f"{q}-dlq").msgs == n
        return ids

    def test_all_back_to_the_source_keeping_rc(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q", max_receives=1)
        ids = self._dead(rsmq, 3)
        res = rsmq.redrive("q-dlq", reset_rc=False)
        assert sorted(res.moved) == sorted(ids)
        assert res.missing == []
        assert res.message_ids == res.moved
        assert rsmq.get_queue_attributes("q-dlq").msgs == 0
        # rc kept: the next receive moves them straight back (max_receives=1 still holds)
        assert rsmq.receive("q") is None
        assert rsmq.get_queue_attributes("q-dlq").msgs == 3

    def test_reset_rc_starts_over_by_default(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q", max_receives=1)
        (mid,) = self._dead(rsmq, 1)
        rsmq.redrive("q-dlq")
        m = _recv(rsmq)
        assert (m.id, m.rc, m.raw) == (mid, 1, "m0")

    def test_by_ids_limit_and_to(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q", max_receives=1)
        rsmq.create_queue("elsewhere")
        ids = self._dead(rsmq, 4)
        res = rsmq.redrive("q-dlq", ids=[ids[2], "z" * 32])
        assert (res.moved, res.missing) == ([ids[2]], ["z" * 32])
        res = rsmq.redrive("q-dlq", limit=2, to="elsewhere", reset_rc=True)
        assert len(res.moved) == 2
        assert sorted(m.id for m in rsmq.peek("elsewhere")) == sorted(res.moved)
        assert rsmq.get_queue_attributes("q-dlq").msgs == 1

    def test_a_message_without_source_needs_to(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("dlq")
        rsmq.create_queue("q")
        plain = rsmq.send("dlq", "put there by a plain RSMQ client")
        assert rsmq.redrive("dlq").missing == [plain]
        assert rsmq.redrive("dlq", to="q").moved == [plain]

    def test_default_to_takes_only_messages_without_a_home(self, rsmq: RSMQ) -> None:
        """A DLQ shared by two queues: each message goes home; one a plain RSMQ client
        put there, and one whose home queue was deleted, go to ``default_to``."""
        rsmq.create_queue("shared")
        for name in ("a", "b", "gone"):
            rsmq.create_queue(name, max_receives=1, dead_letter_queue="shared")
        homes = {}
        for name in ("a", "b", "gone"):
            homes[rsmq.send(name, name)] = name
            rsmq.nack(_recv(rsmq, name).receipt, delay=0)
            assert rsmq.receive(name) is None  # dead-lettered into "shared"
        rsmq.delete_queue("gone")
        plain = rsmq.send("shared", "plain")  # as a plain RSMQ client would
        rsmq.create_queue("triage")
        res = rsmq.redrive("shared", default_to="triage")
        assert sorted(res.moved) == sorted([*homes, plain])
        assert res.missing == []
        assert [m.raw for m in rsmq.peek("a")] == ["a"]
        assert [m.raw for m in rsmq.peek("b")] == ["b"]
        assert sorted(m.raw for m in rsmq.peek("triage")) == ["gone", "plain"]
        assert rsmq.get_queue_attributes("shared").msgs == 0

    def test_bad_arguments(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q", max_receives=1)
        with pytest.raises(InvalidValue):
            rsmq.redrive("q-dlq", to="q-dlq")
        with pytest.raises(InvalidValue):
            rsmq.redrive("q-dlq", default_to="q-dlq")
        with pytest.raises(InvalidValue):
            rsmq.redrive("q-dlq", limit=0)

    def test_racing_redrives_move_each_message_once(
        self, rsmq: RSMQ, redis_client: redis.Redis, test_redis: object
    ) -> None:
        rsmq.create_queue("q", max_receives=1, failed_cap=0)
        ids = self._dead(rsmq, 200)
        results: list[list[str]] = []
        barrier = threading.Barrier(4)

        def worker(i: int) -> None:
            client = redis.Redis.from_url(test_redis.url)  # type: ignore[attr-defined]
            mine = RSMQ(client, namespace=rsmq.namespace)
            barrier.wait(timeout=10)
            if i % 2:
                results.append(mine.redrive("q-dlq", ids=ids, reset_rc=True).moved)
            else:
                moved: list[str] = []
                while True:
                    r = mine.redrive("q-dlq", limit=7, reset_rc=True).moved
                    if not r:
                        break
                    moved += r
                results.append(moved)
            client.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        everything = [mid for moved in results for mid in moved]
        assert sorted(everything) == sorted(ids)  # each exactly once
        assert rsmq.get_queue_attributes("q").msgs == 200
        assert rsmq.get_queue_attributes("q-dlq").msgs == 0


class TestRequeueFailed:
    def test_sends_bodies_as_new_messages_and_deletes_the_records(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q")
        rsmq.create_queue("other")
        rids = []
        for body in ("a", "b", "c"):
            rsmq.send("q", body)
            rids.append(rsmq.fail(_recv(rsmq).receipt, "e").record_id)
            rsmq.purge("q")
        res = rsmq.requeue_failed("q", ids=[rids[0]])
        assert res.moved == [rids[0]]
        (new,) = res.message_ids
        m = _recv(rsmq)
        assert (m.id, m.raw, m.rc) == (new, "a", 1)
        res = rsmq.requeue_failed("q", to="other", limit=5)
        assert res.moved == rids[1:]  # oldest first
        assert sorted(p.raw for p in rsmq.peek("other")) == ["b", "c"]
        assert rsmq.failed("q").total == 0
        again = rsmq.requeue_failed("q", ids=rids)
        assert (again.moved, again.missing) == ([], rids)

    def test_missing_target_queue(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q")
        rsmq.send("q", "a")
        rid = rsmq.fail(_recv(rsmq).receipt, "e").record_id
        res = rsmq.requeue_failed("q", to="nowhere")
        assert res.missing == [rid]
        with pytest.raises(MessageNotFound):
            rsmq.failed_record("q", "y" * 32)


@pytest.mark.parametrize("realtime", [True, ["q"]], ids=["namespace", "per-queue"])
def test_realtime_clients_publish_dead_letter_and_redrive_moves(
    redis_client: redis.Redis, namespace: str, realtime: bool | list[str]
) -> None:
    # With per-queue realtime the DLQ (chosen inside the script) is published too.
    rt = RSMQ(redis_client, namespace=namespace, realtime=realtime)
    rt.create_queue("q", max_receives=1)
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(f"{namespace}:rt:q-dlq", f"{namespace}:rt:q")

    def next_message() -> dict[str, object]:
        return wait_for(lambda: pubsub.get_message(timeout=0.05), what="a PUBLISH")

    mid = rt.send("q", "x")
    assert next_message()["channel"] == f"{namespace}:rt:q".encode()
    rt.nack(_recv(rt).receipt, delay=0)
    assert rt.receive("q") is None  # moved to the DLQ
    msg = next_message()
    assert (msg["channel"], msg["data"]) == (f"{namespace}:rt:q-dlq".encode(), b"1")
    assert rt.redrive("q-dlq", reset_rc=True).moved == [mid]
    msg = next_message()
    assert (msg["channel"], msg["data"]) == (f"{namespace}:rt:q".encode(), b"1")
    pubsub.close()
