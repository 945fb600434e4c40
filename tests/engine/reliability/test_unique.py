"""``unique_key``: a second message with the key is refused (the holder's id comes back)
while the first is waiting, delayed or in flight, and accepted again once it is acked,
dead-lettered or deleted; racing producer processes; batches; replays; pruning."""

from __future__ import annotations

import pytest
import redis

from django_rsmq.engine import RSMQ, InvalidValue
from django_rsmq.engine.keys import Keys
from django_rsmq.engine.protocol import Entry
from django_rsmq.testing import TestRedis
from tests.engine.reliability.helpers import finish, python

PRODUCER = """
import sys
from django_rsmq.engine import RSMQ
url, ns, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = RSMQ(url, namespace=ns)
for i in range(n):
    print("id", r.send("q", f"body{i}", unique_key=f"key{i % 5}"))
"""


def _count(rsmq: RSMQ) -> int:
    return rsmq.get_queue_attributes("q").msgs


def test_a_held_key_refuses_until_the_message_is_acked(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    first = rsmq.send("q", "a", unique_key="order-1")
    assert rsmq.send("q", "b", unique_key="order-1") == first  # waiting
    other = rsmq.send("q", "c", unique_key="order-2")
    assert other != first
    msg = rsmq.receive("q")
    assert msg is not None
    assert msg.id == first
    assert rsmq.send("q", "d", unique_key="order-1") == first  # in flight
    assert _count(rsmq) == 2
    rsmq.ack(msg.receipt)
    again = rsmq.send("q", "e", unique_key="order-1")  # acked: the key is free
    assert again not in (first, other)
    assert _count(rsmq) == 2


def test_delayed_and_retried_messages_hold_their_key(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    first = rsmq.send("q", "a", delay=100, unique_key="k")
    assert rsmq.send("q", "b", unique_key="k") == first
    rsmq.delete("q", first)
    assert rsmq.send("q", "c", unique_key="k") != first  # deleted: free


def test_dead_lettering_releases_the_key(rsmq: RSMQ) -> None:
    rsmq.create_queue("q", max_receives=1)
    first = rsmq.send("q", "a", unique_key="k")
    msg = rsmq.receive("q")
    assert msg is not None
    result = rsmq.fail(msg.receipt, error="boom")
    assert result.dead_lettered
    second = rsmq.send("q", "b", unique_key="k")
    assert second != first
    assert _count(rsmq) == 1


def test_a_batch_keeps_the_first_message_with_a_key(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    out = rsmq.send_many(
        "q", [Entry("a", unique_key="k"), Entry("b", unique_key="k"), Entry("c", unique_key="j")]
    )
    ids = [o.unwrap() for o in out]
    assert ids[0] == ids[1]
    assert ids[2] != ids[0]
    assert _count(rsmq) == 2


def test_a_replay_after_a_lost_reply_stores_nothing_twice(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    call = rsmq.protocol.send("q", "a", rsmq.serializer, unique_key="k")
    first = rsmq._run(call)
    assert rsmq._run(call) == first  # the same ARGV again: the same id, one message
    assert _count(rsmq) == 1


def test_unique_keys_hold_under_racing_producer_processes(
    rsmq: RSMQ, test_redis: TestRedis
) -> None:
    rsmq.create_queue("q")
    url = test_redis.url
    procs = [python(PRODUCER, url, rsmq.namespace, "30") for _ in range(4)]
    returned: dict[str, set[str]] = {}
    for p in procs:
        lines = [x for x in finish(p).splitlines() if x.startswith("id ")]
        for i, line in enumerate(lines):
            returned.setdefault(f"key{i % 5}", set()).add(line.split()[1])
    assert _count(rsmq) == 5  # one message per key, however the sends raced
    assert all(len(ids) == 1 for ids in returned.values()), returned


def test_invalid_keys_are_refused_and_sweep_prunes_released_ones(
    rsmq: RSMQ, redis_client: redis.Redis
) -> None:
    rsmq.create_queue("q")
    with pytest.raises(InvalidValue, match="unique_key"):
        rsmq.send("q", "a", unique_key="")
    ids = [rsmq.send("q", str(i), unique_key=f"k{i}") for i in range(3)]
    rsmq.delete("q", ids[0])
    unique = Keys(rsmq.namespace).queue("q").unique
    assert redis_client.hlen(unique) == 3
    rsmq.sweep("q")
    assert sorted(k.decode() for k in redis_client.hkeys(unique)) == ["k1", "k2"]
    rsmq.delete_queue("q")
    assert redis_client.exists(unique) == 0
