"""Behaviours no other test pinned (issue 11): each test asserts exactly the one it names.

All run against the real Redis of the session, on both front ends (sync RSMQ and the
asyncio AsyncRSMQ through tests/engine/fronts.py) where the behaviour is the engine's.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis

from django_rsmq.engine import Keys, MessageNotFound, RetryPolicy
from django_rsmq.engine.message import Message

from .helpers import wait_for


def _one(front: Any, qname: str, vt: float = 30) -> Message:
    got = front.receive_many(qname, 1, vt=vt)
    assert len(got) == 1, got
    message: Message = got[0]
    return message


def _wear_out(front: Any, qname: str, body: str) -> str:
    """Send a message and use up its one delivery (max_receives=1): the next receive
    that meets it withholds it (moves it to the DLQ) instead of delivering it."""
    mid = front.send(qname, body)
    front.nack(_one(front, qname).receipt, delay=0)
    return str(mid)


# -- 1. totalrecv after a batch receive ---------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [{}, {"max_receives": 5}],
    ids=["plain-queue", "queue-with-dlq"],  # the receive script's two paths
)
def test_totalrecv_grows_by_the_number_a_batch_receive_returned(
    front: Any, settings: dict[str, Any]
) -> None:
    front.create_queue("q", **settings)
    front.send_many("q", [f"m{i}" for i in range(5)])
    assert front.get_queue_attributes("q").totalrecv == 0
    assert len(front.receive_many("q", 3)) == 3
    assert front.get_queue_attributes("q").totalrecv == 3
    assert len(front.receive_many("q", 10)) == 2  # only 2 left
    assert front.get_queue_attributes("q").totalrecv == 5
    assert front.receive_many("q", 10) == []  # an empty receive counts nothing
    assert front.get_queue_attributes("q").totalrecv == 5


# -- 2. a batch receive never returns more than asked, withheld messages or not -----------


def test_receive_many_never_returns_more_than_count_past_a_withheld_message(
    front: Any,
) -> None:
    # A message received max_receives times is "withheld" by the next receive that meets
    # it (moved to the DLQ, scripts/receive.lua); the receive then looks again for more.
    front.create_queue("q", max_receives=1)
    worn = _wear_out(front, "q", "worn")
    fresh = [o.unwrap() for o in front.send_many("q", ["f0", "f1", "f2"])]
    # visible, oldest first: worn, f0, f1, f2 — the first look sees [worn, f0]
    got = front.receive_many("q", 2)
    assert [m.id for m in got] == fresh[:2]
    assert [m.id for m in front.peek("q-dlq")] == [worn]
    attrs = front.get_queue_attributes("q")
    assert (attrs.visible, attrs.in_flight, attrs.totalrecv) == (1, 2, 3)


# -- 3. the last error of a failed message goes with it to the DLQ ------------------------


def test_a_failed_message_dead_lettered_by_vt_expiry_carries_its_last_error(
    front: Any,
) -> None:
    front.create_queue("q", max_receives=2)
    mid = front.send("q", "x")
    first = _one(front, "q")
    failure = front.fail(first.receipt, ValueError("first try broke"))
    assert (failure.dead_lettered, failure.retry_in) == (False, 0.0)
    second = _one(front, "q", vt=0.1)  # the 2nd and last delivery: its handler "crashes"
    assert second.rc == 2
    wait_for(lambda: front.get_queue_attributes("q").visible, what="the vt to run out")
    assert front.receive_many("q", 1) == []  # met at the limit: dead-lettered, not delivered
    info = front.dead_letter_info("q-dlq", mid)
    assert info is not None
    assert (info.reason, info.rc) == ("max_receives", 2)
    assert (info.error_type, info.error, info.record_id) == (
        "ValueError",
        "first try broke",
        failure.record_id,
    )


# -- 4. the same receipt twice in one ack_many ---------------------------------------------


def test_the_same_receipt_twice_in_one_ack_many_deletes_once(front: Any) -> None:
    front.create_queue("q")
    front.send_many("q", ["a", "b"])
    a, b = front.receive_many("q", 2)
    before = front.get_queue_attributes("q")
    outcomes = front.ack_many([a, b.receipt, a.receipt])
    assert [o.ok for o in outcomes] == [True, True, False]
    assert isinstance(outcomes[2].error, MessageNotFound)
    after = front.get_queue_attributes("q")
    assert (after.msgs, after.in_flight, after.visible) == (0, 0, 0)
    assert (after.totalsent, after.totalrecv) == (before.totalsent, before.totalrecv)
    assert front.peek("q") == []


# -- 5. a retry delay keeps the message hidden that long ----------------------------------


def test_a_retry_delay_keeps_the_failed_message_hidden_for_that_long(front: Any) -> None:
    delay = 0.6
    front.create_queue("q", retry=RetryPolicy.fixed(delay))
    mid = front.send("q", "x")
    m = _one(front, "q")
    started = time.monotonic()  # before fail(): the delay runs from a later instant
    assert front.fail(m.receipt, "retry me").retry_in == pytest.approx(delay)
    # Not receivable before the delay: every receive that *returned* before `started +
    # delay` ran in Redis before the message's retry time, and must find nothing.
    misses = 0
    while True:
        got = front.receive_many("q", 1)
        returned = time.monotonic()
        if got:
            assert returned - started >= delay, f"redelivered after {returned - started:.3f}s"
            break
        if returned < started + delay:
            misses += 1
        assert returned - started < delay + 5, "not redelivered within 5 s after the delay"
        time.sleep(0.02)
    assert misses > 0  # it really was looked for (and hidden) during the delay
    assert (got[0].id, got[0].rc) == (mid, 2)


# -- 6. a redrive of an id that already exists in the destination --------------------------


def test_redrive_leaves_an_id_the_destination_already_holds_in_the_dlq(
    front: Any, raw: redis.Redis, keys: Keys
) -> None:
    # docs/reliability.md "Redrive": such a message is not moved (reported missing), the
    # destination's copy is left as it is and the dead letter stays in the DLQ.
    front.create_queue("q", max_receives=1)
    mid = front.send("q", "dead")
    assert front.fail(_one(front, "q").receipt, "boom").dead_lettered
    other = front.send("q", "other")  # a message of its own that redrive must not disturb
    front.fail(front.receive_many("q", 1)[0].receipt, "boom")
    assert sorted(m.id for m in front.peek("q-dlq")) == sorted([mid, other])
    # The same id back in "q" (a peer's write or a restore from a backup): body "live",
    # rc 4, hidden for a minute.
    q = keys.queue("q")
    hidden = int(raw.time()[0]) * 1000 + 60_000
    raw.zadd(q.zset, {mid: hidden})
    raw.hset(q.hash, mapping={mid: "live", f"{mid}:rc": "4", f"{mid}:fr": "1"})
    before = {k: raw.hget(q.hash, k) for k in (mid, f"{mid}:rc", f"{mid}:fr")}

    res = front.redrive("q-dlq")
    assert (res.moved, res.missing, res.message_ids) == ([other], [mid], [other])
    assert raw.zscore(q.zset, mid) == hidden  # the destination's message is untouched
    assert {k: raw.hget(q.hash, k) for k in before} == before
    assert [m.id for m in front.peek("q-dlq")] == [mid]  # the dead letter stays, with
    info = front.dead_letter_info("q-dlq", mid)  # its origin, for a later redrive
    assert info is not None
    assert info.queue == "q"
    assert front.redrive("q-dlq", ids=[mid]).missing == [mid]  # by id: the same
