"""``fail(..., delay=, then=)``: the engine side of the handler outcomes Retry,
DeadLetter and Discard (django_rsmq/outcomes.py; docs/reliability.md)."""

from __future__ import annotations

import pytest
import redis

from django_rsmq.engine import RSMQ, InvalidValue, RetryPolicy, StaleReceipt
from django_rsmq.engine.message import Message


def _recv(rsmq: RSMQ, q: str = "q") -> Message:
    m = rsmq.receive(q, vt=30)
    assert m is not None
    return m


def test_an_explicit_delay_replaces_the_policys(rsmq: RSMQ, redis_client: redis.Redis) -> None:
    rsmq.create_queue("q", retry=RetryPolicy.fixed(300))
    mid = rsmq.send("q", "x")
    res = rsmq.fail(_recv(rsmq).receipt, ValueError("later"), delay=7)
    assert (res.retry_in, res.dead_lettered, res.discarded) == (7.0, False, False)
    score = redis_client.zscore(f"{rsmq.namespace}:q", mid)
    now_s, now_us = redis_client.time()
    assert score is not None
    assert 6 < (score - (now_s * 1000 + now_us // 1000)) / 1000 <= 7
    assert rsmq.failed_record("q", res.record_id).retry_in == 7.0


def test_dead_letter_moves_it_on_its_first_delivery(rsmq: RSMQ) -> None:
    rsmq.create_queue("q", max_receives=5)
    mid = rsmq.send("q", "x")
    res = rsmq.fail(_recv(rsmq).receipt, ValueError("poison"), then="dead_letter")
    assert (res.dead_lettered, res.discarded, res.retry_in) == (True, False, None)
    assert rsmq.get_queue_attributes("q").msgs == 0
    info = rsmq.dead_letter_info("q-dlq", mid)
    assert info is not None
    assert (info.reason, info.rc, info.error) == ("dead_letter", 1, "poison")
    assert rsmq.failed_record("q", res.record_id).dead_lettered


def test_dead_letter_without_a_dlq_drops_it_with_a_record(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    rsmq.send("q", "x")
    res = rsmq.fail(_recv(rsmq).receipt, ValueError("poison"), then="dead_letter")
    assert (res.dead_lettered, res.discarded) == (False, True)
    assert rsmq.get_queue_attributes("q").msgs == 0
    rec = rsmq.failed_record("q", res.record_id)
    assert (rec.discarded, rec.dead_lettered, rec.retry_in) == (True, False, None)


def test_discard_deletes_it_and_marks_the_record(rsmq: RSMQ) -> None:
    rsmq.create_queue("q", max_receives=3)
    rsmq.send("q", "x")
    m = _recv(rsmq)
    res = rsmq.fail(m.receipt, ValueError("obsolete"), then="discard")
    assert (res.dead_lettered, res.discarded, res.retry_in) == (False, True, None)
    attrs = rsmq.get_queue_attributes("q")
    assert (attrs.msgs, attrs.in_flight) == (0, 0)
    assert rsmq.get_queue_attributes("q-dlq").msgs == 0
    assert rsmq.failed_record("q", res.record_id).discarded


def test_outcomes_are_fenced_by_the_receipt(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    rsmq.send("q", "x")
    old = _recv(rsmq)
    rsmq.change_visibility_by_receipt(old.receipt, 0)
    _recv(rsmq)  # a newer delivery owns it now
    with pytest.raises(StaleReceipt):
        rsmq.fail(old.receipt, ValueError("late"), then="discard")
    assert rsmq.get_queue_attributes("q").msgs == 1


def test_a_bad_delay_is_refused_before_anything_runs(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    rsmq.send("q", "x")
    with pytest.raises(InvalidValue):
        rsmq.fail(_recv(rsmq).receipt, ValueError("x"), delay=-1)


def test_a_requeue_from_failure_records_never_sends_a_discarded_message(rsmq: RSMQ) -> None:
    """Issue 16's lifecycle rule with issue 15's Discard: the message is done, not gone."""
    from django_rsmq.engine.triage import plan_requeue

    rsmq.create_queue("q", retry=None)
    mid = rsmq.send("q", "doomed")
    first = rsmq.receive("q", vt=0.001)
    assert first is not None
    rsmq.fail(first, ValueError("boom"))  # an ordinary failure: retried
    again = rsmq.receive("q")
    assert again is not None
    rsmq.fail(again, ValueError("no"), then="discard")
    records = rsmq.failed("q").items
    assert {r.message_id for r in records} == {mid}
    assert sorted(r.discarded for r in records) == [False, True]
    plan = plan_requeue(records, {})  # the message is gone from the queue
    assert plan.send == []
    assert sorted(plan.skipped["discarded"]) == sorted(r.id for r in records)
    older = [r for r in records if not r.discarded]  # a selection without the discard
    assert plan_requeue(older, {}, discarded={mid}).send == []
