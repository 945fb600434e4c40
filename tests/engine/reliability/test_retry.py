"""Retry policies, nack and fail (failure records, retry or dead-letter)."""

from __future__ import annotations

import pytest
import redis

from django_rsmq.engine import (
    RSMQ,
    InvalidValue,
    MessageNotFound,
    RetryPolicy,
    StaleReceipt,
)
from django_rsmq.engine.message import Message
from tests.engine.helpers import wait_for


def _recv(rsmq: RSMQ, q: str = "q", vt: float = 30) -> Message:
    m = rsmq.receive(q, vt=vt)
    assert m is not None
    return m


def _visible_in(rsmq: RSMQ, redis_client: redis.Redis, mid: str, q: str = "q") -> float:
    """Seconds until message ``mid`` is receivable (from its zset score)."""
    score = redis_client.zscore(f"{rsmq.namespace}:{q}", mid)
    assert score is not None
    now_s, now_us = redis_client.time()
    return (score - (now_s * 1000 + now_us // 1000)) / 1000


class TestPolicy:
    def test_fixed_uses_each_delay_then_repeats_the_last(self) -> None:
        p = RetryPolicy.fixed(1, 5, 30)
        assert [p.delay(rc) for rc in (1, 2, 3, 4, 10)] == [1, 5, 30, 30, 30]

    def test_exponential_grows_to_the_cap_and_jitter_only_shortens(self) -> None:
        p = RetryPolicy.exponential(base=1, factor=2, max=10, jitter=0.5)
        assert [p.delay(rc) for rc in (1, 2, 3, 4, 5, 6)] == [1, 2, 4, 8, 10, 10]
        assert p.delay(3, u=0.999) == pytest.approx(4 * (1 - 0.5 * 0.999))
        assert p.delay(10_000) == 10  # no overflow for huge rc
        assert RetryPolicy.exponential(1, 100, 50, 0).delay(10_000) == 50

    def test_round_trips_through_its_hash_field(self) -> None:
        for p in (RetryPolicy.fixed(0.5, 2), RetryPolicy.exponential(2, 3, 90, 0)):
            assert RetryPolicy.from_field(p.to_field()) == p

    @pytest.mark.parametrize(
        "build",
        [
            lambda: RetryPolicy.fixed(),
            lambda: RetryPolicy.fixed(-1),
            lambda: RetryPolicy.exponential(base=-1),
            lambda: RetryPolicy.exponential(factor=0.5),
            lambda: RetryPolicy.exponential(jitter=2),
            lambda: RetryPolicy.exponential(base=10, max=5),
            lambda: RetryPolicy.from_field("{nope"),
        ],
    )
    def test_bad_policies_raise(self, build: object) -> None:
        with pytest.raises(InvalidValue):
            build()  # type: ignore[operator]


class TestNack:
    def test_explicit_delay_hides_the_message_and_keeps_rc(
        self, rsmq: RSMQ, redis_client: redis.Redis
    ) -> None:
        rsmq.create_queue("q")
        mid = rsmq.send("q", "x")
        m = _recv(rsmq)
        assert rsmq.nack(m.receipt, delay=20) == 20.0
        assert 19 < _visible_in(rsmq, redis_client, mid) <= 20
        assert rsmq.receive("q") is None
        rsmq.nack(_peek_receipt(rsmq, mid, 1), delay=0)
        again = _recv(rsmq)
        assert (again.id, again.rc) == (mid, 2)

    def test_without_delay_the_policy_picks_it_from_rc(
        self, rsmq: RSMQ, redis_client: redis.Redis
    ) -> None:
        policy = RetryPolicy.fixed(0, 100, 200)
        rsmq.create_queue("q", retry=policy)
        mid = rsmq.send("q", "x")
        assert rsmq.nack(_recv(rsmq).receipt) == policy.delay(1) == 0
        assert rsmq.nack(_recv(rsmq).receipt) == policy.delay(2) == 100
        assert 99 < _visible_in(rsmq, redis_client, mid) <= 100

    def test_exponential_in_lua_matches_python(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q", retry=RetryPolicy.exponential(base=1.5, factor=3, max=40))
        rsmq.send("q", "x")
        expected = RetryPolicy.exponential(base=1.5, factor=3, max=40, jitter=0.1)
        for rc in (1, 2, 3, 4):
            m = _recv(rsmq)
            assert m.rc == rc
            got = rsmq.nack(m.receipt)
            # jitter draws u in [0, 1): the delay lies in (d * (1 - jitter), d]
            assert expected.delay(rc, 1.0) - 0.001 <= got <= expected.delay(rc, 0.0) + 0.001
            rsmq.change_visibility("q", m.id, 0)

    def test_no_policy_means_receivable_at_once(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q")
        rsmq.send("q", "x")
        assert rsmq.nack(_recv(rsmq).receipt) == 0.0
        assert _recv(rsmq).rc == 2

    def test_is_fenced_like_ack(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q")
        rsmq.send("q", "x")
        first = _recv(rsmq, vt=0)
        second = _recv(rsmq)
        with pytest.raises(StaleReceipt):
            rsmq.nack(first.receipt)
        rsmq.ack(second.receipt)
        with pytest.raises(MessageNotFound):
            rsmq.nack(second.receipt)


def _peek_receipt(rsmq: RSMQ, mid: str, rc: int) -> str:
    return f"q:{mid}:{rc}"


class TestFail:
    def test_stores_a_record_and_retries_by_policy(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q", retry=RetryPolicy.fixed(0))
        mid = rsmq.send("q", {"order": 7})
        m = _recv(rsmq)
        res = rsmq.fail(m.receipt, KeyError("sku"), traceback="Traceback...\nKeyError: 'sku'")
        assert (res.retry_in, res.dead_lettered) == (0.0, False)
        rec = rsmq.failed_record("q", res.record_id)
        assert (rec.queue, rec.message_id, rec.rc, rec.body) == ("q", mid, 1, {"order": 7})
        assert (rec.exc_type, rec.error) == ("KeyError", "'sku'")
        assert rec.traceback == "Traceback...\nKeyError: 'sku'"
        assert (rec.dead_lettered, rec.retry_in) == (False, 0.0)
        assert rec.failed_at > 0
        assert _recv(rsmq).rc == 2  # retried

    def test_custom_exception_types_are_qualified(self, rsmq: RSMQ) -> None:
        class Boom(Exception):
            pass

        rsmq.create_queue("q")
        rsmq.send("q", "x")
        res = rsmq.fail(_recv(rsmq).receipt, Boom("bang"))
        rec = rsmq.failed_record("q", res.record_id)
        assert rec.exc_type.endswith("Boom")
        assert "." in rec.exc_type
        assert rec.traceback is None

    def test_at_max_receives_it_dead_letters_with_metadata(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q", max_receives=2)
        mid = rsmq.send("q", "payload")
        m1 = _recv(rsmq)
        r1 = rsmq.fail(m1.receipt, ValueError("first"))
        assert not r1.dead_lettered
        m2 = _recv(rsmq)
        r2 = rsmq.fail(m2.receipt, ValueError("second"))
        assert (r2.dead_lettered, r2.retry_in) == (True, None)
        assert rsmq.get_queue_attributes("q").msgs == 0
        dl = _recv(rsmq, "q-dlq")
        assert (dl.id, dl.body, dl.rc) == (mid, "payload", 1)
        info = rsmq.dead_letter_info("q-dlq", mid)
        assert info is not None
        assert (info.queue, info.message_id, info.rc, info.reason) == ("q", mid, 2, "failed")
        assert (info.error_type, info.error, info.record_id) == (
            "ValueError",
            "second",
            r2.record_id,
        )
        assert info.first_received == m1.fr
        assert info.last_received is not None
        assert info.last_received >= m2.fr
        assert info.dead_lettered_at >= info.last_received

    def test_is_fenced(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q")
        rsmq.send("q", "x")
        old = _recv(rsmq, vt=0)
        _recv(rsmq)
        with pytest.raises(StaleReceipt):
            rsmq.fail(old.receipt, "late")
        assert rsmq.failed("q").total == 0

    def test_error_must_be_an_exception_or_str(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q")
        rsmq.send("q", "x")
        with pytest.raises(InvalidValue):
            rsmq.fail(_recv(rsmq).receipt, 42)  # type: ignore[arg-type]

    def test_failed_cap_zero_keeps_no_record(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q", failed_cap=0)
        rsmq.send("q", "x")
        assert rsmq.fail(_recv(rsmq).receipt, "e").record_id == ""
        assert rsmq.failed("q").total == 0


class TestFailedRecords:
    def _fail_many(self, rsmq: RSMQ, errors: list[BaseException | str]) -> list[str]:
        rids = []
        for e in errors:
            rsmq.send("q", str(e))
            rids.append(rsmq.fail(_recv(rsmq).receipt, e).record_id)
            rsmq.purge("q")  # records are a log: they outlive the message
        return rids

    def test_paging_newest_first_with_total(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q")
        rids = self._fail_many(rsmq, [ValueError(f"v{i}") for i in range(5)])
        page = rsmq.failed("q", offset=1, limit=2)
        assert page.total == 5
        assert [r.id for r in page.items] == [rids[3], rids[2]]

    def test_filter_by_type_and_text(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q")
        rids = self._fail_many(
            rsmq, [ValueError("Disk FULL"), KeyError("x"), ValueError("timeout"), "disk gone"]
        )
        by_type = rsmq.failed("q", exc_type="ValueError")
        assert (by_type.total, [r.id for r in by_type.items]) == (2, [rids[2], rids[0]])
        by_text = rsmq.failed("q", search="DISK")
        assert (by_text.total, [r.id for r in by_text.items]) == (2, [rids[3], rids[0]])
        both = rsmq.failed("q", exc_type="ValueError", search="disk", limit=1)
        assert (both.total, [r.id for r in both.items]) == (1, [rids[0]])
        assert rsmq.failed("q", search="nothing like it").total == 0

    def test_cap_keeps_the_newest(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q", failed_cap=3)
        rids = self._fail_many(rsmq, [f"e{i}" for i in range(5)])
        page = rsmq.failed("q")
        assert [r.id for r in page.items] == rids[:1:-1]
        with pytest.raises(MessageNotFound):
            rsmq.failed_record("q", rids[0])

    def test_ttl_drops_old_records_and_the_keys_expire(
        self, rsmq: RSMQ, redis_client: redis.Redis
    ) -> None:
        rsmq.create_queue("q", failed_ttl=0.2)
        self._fail_many(rsmq, ["old"])
        ttl = redis_client.pttl(f"{rsmq.namespace}:q:failed")
        assert 0 < ttl <= 200
        wait_for(lambda: rsmq.failed("q").total == 0, what="the record to expire")

    def test_delete_some_or_all(self, rsmq: RSMQ) -> None:
        rsmq.create_queue("q")
        rids = self._fail_many(rsmq, ["a", "b", "c"])
        assert rsmq.delete_failed("q", [rids[0], "x" * 32]) == 1
        assert rsmq.failed("q").total == 2
        assert rsmq.delete_failed("q") == 2
        assert rsmq.failed("q").total == 0
        with pytest.raises(InvalidValue):
            rsmq.delete_failed("q", [])
