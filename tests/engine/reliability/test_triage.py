"""The failure-record lifecycle (engine/triage.py): record_states, the ack's "ok:" mark,
the requeue's "rq:" mark and guard, and the failed listing's message / time filters."""

from __future__ import annotations

import redis

from django_rsmq.engine import RSMQ, Keys
from django_rsmq.engine.reliability import FailedRecord
from django_rsmq.engine.triage import RecordState, plan_requeue


def _fail(rsmq: RSMQ, q: str, mid: str, error: str = "boom") -> str:
    m = rsmq.receive(q, vt=30)
    assert m is not None
    assert m.id == mid
    return rsmq.fail(m.receipt, ValueError(error)).record_id


def test_states_follow_the_message(rsmq: RSMQ, raw: redis.Redis, keys: Keys) -> None:
    # one queue per message: their receive order cannot depend on equal ms scores
    for name in ("ok", "dead", "dropped"):
        rsmq.create_queue(name, max_receives=2)
    ok, dead, dropped = rsmq.send("ok", "x"), rsmq.send("dead", "x"), rsmq.send("dropped", "x")
    for q, mid in (("ok", ok), ("dead", dead), ("dropped", dropped)):
        _fail(rsmq, q, mid)
    assert rsmq.record_states("ok", [ok]) == [("waiting", "")]
    m = rsmq.receive("ok")
    assert m is not None
    assert rsmq.record_states("ok", [ok]) == [("in_flight", "")]
    rsmq.ack(m.receipt)
    (state, at) = rsmq.record_states("ok", [ok])[0]
    assert state == "succeeded"
    assert int(at) > 0
    d = rsmq.receive("dead")
    assert d is not None
    assert rsmq.fail(d.receipt, ValueError("again")).dead_lettered
    assert rsmq.record_states("dead", [dead]) == [("dead_lettered", "")]
    rsmq.delete("dropped", dropped)  # a bare-id delete is no success
    assert rsmq.record_states("dropped", [dropped]) == [("gone", "")]
    assert raw.hget(keys.queue("dropped").failed, f"ok:{dropped}") is None


def test_an_ack_without_failures_writes_nothing(rsmq: RSMQ, raw: redis.Redis, keys: Keys) -> None:
    rsmq.create_queue("q")
    failed = rsmq.send("q", "f")
    _fail(rsmq, "q", failed)
    clean = rsmq.send("q", "c")
    m = rsmq.receive("q")
    assert m is not None
    assert m.id == failed
    rsmq.change_visibility_by_receipt(m.receipt, 30)
    c = rsmq.receive("q")
    assert c is not None
    assert c.id == clean
    rsmq.ack(c.receipt)
    fields = set(raw.hkeys(keys.queue("q").failed))
    assert f"ok:{clean}" not in fields
    # a queue that never failed gets no failed-records key from acks
    rsmq.create_queue("plain")
    rsmq.send("plain", "x")
    p = rsmq.receive("plain")
    assert p is not None
    rsmq.nack(p.receipt, delay=0)
    p = rsmq.receive("plain")
    assert p is not None
    rsmq.ack(p.receipt)
    assert not raw.exists(keys.queue("plain").failed)


def test_guarded_requeue_sends_one_message_once(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    mid = rsmq.send("q", "x")
    r1 = _fail(rsmq, "q", mid, "first")
    m = rsmq.receive("q", vt=30)
    assert m is not None
    r2 = rsmq.fail(m.receipt, ValueError("second")).record_id
    # still waiting for its retry: the guard refuses both records
    assert rsmq.requeue_failed("q", ids=[r1, r2], guard=True).missing == [r1, r2]
    rsmq.delete("q", mid)
    done = rsmq.requeue_failed("q", ids=[r2, r1], guard=True)
    assert (done.moved, done.missing) == ([r2], [r1])  # one message, one new copy
    assert rsmq.get_queue_attributes("q").msgs == 1
    (state, new_id) = rsmq.record_states("q", [mid])[0]
    assert state == "requeued"
    assert new_id == done.message_ids[0]
    # unguarded, the old behaviour: the record is sent whatever became of the message
    assert rsmq.requeue_failed("q", ids=[r1]).moved == [r1]


def test_plan_picks_the_newest_record_of_each_gone_message() -> None:
    def rec(rid: str, mid: str, at: int) -> FailedRecord:
        return FailedRecord(rid, "q", mid, "b", 1, "E", "e", None, at, False, None)

    records = [rec("r1", "a", 1), rec("r2", "a", 3), rec("r3", "b", 2), rec("r4", "c", 2)]
    states = {"a": RecordState("gone"), "b": RecordState("succeeded", "5")}
    plan = plan_requeue(records, states)
    assert sorted(plan.send) == ["r2", "r4"]  # c: no state known counts as gone
    assert plan.skipped == {"duplicate": ["r1"], "succeeded": ["r3"]}
    assert plan.describe() == (
        "2 to send, 2 skipped: 1 (a newer record of the same message is sent instead), "
        "1 (its message succeeded later)"
    )


def test_failed_filters_by_message_time_and_groups(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    a = rsmq.send("q", "a")
    ra = _fail(rsmq, "q", a)
    _fail(rsmq, "q", a)  # no retry policy: receivable again at once
    rsmq.delete("q", a)
    b = rsmq.send("q", "b")
    m = rsmq.receive("q")
    assert m is not None
    assert m.id == b
    rsmq.fail(m.receipt, KeyError("k"))
    page = rsmq.failed("q", message_id=a)
    assert page.total == 2
    assert {r.message_id for r in page.items} == {a}
    first = rsmq.failed_record("q", ra)
    newest = rsmq.failed("q", limit=1).items[0]
    assert rsmq.failed("q", until=first.failed_at).total >= 1
    assert rsmq.failed("q", since=newest.failed_at + 1).total == 0
    assert rsmq.failed("q", since=first.failed_at, exc_type="KeyError").total == 1
    assert rsmq.failed_groups("q") == {"ValueError": 2, "KeyError": 1}
    assert rsmq.failed_groups("q", search="keyerror") == {"KeyError": 1}
