"""The side-data rule, checked with the real ``pyrsmq`` package (a plain RSMQ client).

PyRSMQ/Node delete a message with ``ZREM zset id`` + ``HDEL hash id id:rc id:fr`` and
pop it the same way: they never touch our side keys. Side entries of such a message are
garbage (their id is no longer in the zset) and go at the next receive on the queue (a
bounded sweep step) or with ``sweep()``; the in-flight index entry of a message deleted
while hidden goes when its visibility time passes (it counts for nothing after that) or
with ``sweep()``. Failure records (a capped, expiring log) and
de-duplication entries (expiring after the window) are not message state and are exempt.

Their ``deleteQueue`` deletes only the queue's hash and zset: the side keys left behind
are removed by ``sweep()`` or our ``create_queue``, and never reach a queue of the same
name that a peer creates again (they are stamped with the queue's side-data id).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from rsmq import RedisSMQ

from django_rsmq.engine import RSMQ
from django_rsmq.testing import TestRedis

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def peer(test_redis: TestRedis, namespace: str) -> Iterator[RedisSMQ]:
    client = redis.Redis.from_url(test_redis.url, decode_responses=True)
    yield RedisSMQ(client=client, ns=namespace)
    client.close()


def _mentions(r: redis.Redis, ns: str, ids: set[str]) -> list[str]:
    """Every key, hash field or value in the namespace that mentions one of ``ids``,
    except the failure-record log and de-duplication keys (exempt, see module doc)."""
    found = []
    for key in r.scan_iter(f"{ns}:*"):
        k = key.decode()
        if k.endswith((":failed", ":failed:t", ":dedup", ":dedup-t")):
            continue
        kind = r.type(key).decode()
        items: list[bytes] = [key]
        if kind == "hash":
            for f, v in r.hgetall(key).items():
                items += [f, v]
        elif kind == "zset":
            items += r.zrange(key, 0, -1)
        elif kind == "set":
            items += list(r.smembers(key))
        elif kind == "string":
            items.append(r.get(key) or b"")
        found += [f"{k}: {it!r}" for it in items if any(i.encode() in it for i in ids)]
    return found


def test_plain_delete_and_pop_leave_nothing_behind(
    rsmq: RSMQ, redis_client: redis.Redis, peer: RedisSMQ
) -> None:
    ns = rsmq.namespace
    rsmq.create_queue("q", max_receives=2, vt=30)
    received = rsmq.send("q", "received: has {id}:lr")
    failed = rsmq.send("q", "failed once: has {id}:lr and {id}:err")
    dead = rsmq.send("q", "dead-lettered: has {id}:dl in the DLQ's meta")
    keep = rsmq.send("q", "stays in flight")
    got = rsmq._run(rsmq.protocol.receive("q", rsmq.serializer, count=4))
    assert [m.id for m in got] == [received, failed, dead, keep]
    receipts = {m.id: m.receipt for m in got}

    rsmq.nack(receipts[dead], delay=0)
    m = rsmq.receive("q")
    assert m is not None
    assert (m.id, m.rc) == (dead, 2)
    rsmq.change_visibility("q", dead, 0)
    assert rsmq.receive("q") is None  # dead: received max_receives times -> DLQ
    rsmq.fail(receipts[failed], "boom")  # visible again, with :err and :st side entries
    assert [p.id for p in rsmq.peek("q-dlq")] == [dead]
    side = redis_client.hkeys(f"{ns}:q:meta") + redis_client.hkeys(f"{ns}:q-dlq:meta")
    assert sorted(k.decode() for k in side) == sorted(
        [
            *(f"{received}:lr", f"{failed}:lr", f"{failed}:err", f"{failed}:st"),
            *(f"{keep}:lr", f"{dead}:dl"),
        ]
    )

    # A plain RSMQ client deletes and pops our messages.
    assert peer.deleteMessage(qname="q", id=received).execute()
    assert peer.popMessage(qname="q").execute()["id"] == failed
    assert peer.popMessage(qname="q-dlq").execute()["id"] == dead

    gone = {received, failed, dead}
    assert _mentions(redis_client, ns, gone)  # side entries still there...
    assert rsmq.receive("q") is None  # ...until the next receive on each queue
    assert rsmq.receive("q-dlq") is None
    # ...but for the in-flight index entry of the message deleted while hidden (vt 30 s)
    assert _mentions(redis_client, ns, gone) == [f"{ns}:q:inflight: {received.encode()!r}"]
    rsmq.sweep("q")
    assert _mentions(redis_client, ns, gone) == []
    assert redis_client.hkeys(f"{ns}:q:meta") == [f"{keep}:lr".encode()]
    # The failure record is a log entry and outlives the message by design.
    assert rsmq.failed("q").items[0].message_id == failed


def test_sweep_cleans_a_large_side_hash(
    rsmq: RSMQ, redis_client: redis.Redis, peer: RedisSMQ
) -> None:
    ns = rsmq.namespace
    rsmq.create_queue("q", max_receives=5)
    for b in range(3):
        rsmq._run(rsmq.protocol.send_many("q", [f"{b}-{i}" for i in range(200)], rsmq.serializer))
    got = rsmq._run(rsmq.protocol.receive("q", rsmq.serializer, vt=30, count=600))
    assert redis_client.hlen(f"{ns}:q:meta") == 600
    for m in got[:550]:
        assert peer.deleteMessage(qname="q", id=m.id).execute()
    rsmq.sweep("q")
    assert redis_client.hlen(f"{ns}:q:meta") == 50
    # The receive step alone gets there too, a bounded number of entries per call.
    for m in got[550:]:
        peer.deleteMessage(qname="q", id=m.id).execute()
    for _ in range(200):
        rsmq.receive("q")
        if not redis_client.exists(f"{ns}:q:meta"):
            break
    assert not redis_client.exists(f"{ns}:q:meta")


def test_plain_delete_queue_then_sweep_removes_side_keys(
    rsmq: RSMQ, redis_client: redis.Redis, peer: RedisSMQ
) -> None:
    ns = rsmq.namespace
    rsmq.create_queue("q", max_receives=3)
    rsmq.send("q", "x", dedup_id="k")
    m = rsmq.receive("q")
    assert m is not None
    rsmq.fail(m.receipt, "e")
    assert peer.deleteQueue(qname="q").execute()
    # The queue hash carried the settings: Node/PyRSMQ's deleteQueue removed them.
    assert not redis_client.exists(f"{ns}:q:Q")
    rsmq.sweep("q")
    assert sorted(k.decode() for k in redis_client.scan_iter(f"{ns}:q:*")) == []
    # Recreating a queue of that name starts clean as well.
    rsmq.create_queue("q")
    assert rsmq.get_queue_attributes("q").max_receives is None


def test_plain_delete_and_create_queue_inherit_nothing(
    rsmq: RSMQ, redis_client: redis.Redis, peer: RedisSMQ
) -> None:
    """A peer deletes our queue and creates it again: our dedup entries and failure
    records of the old queue are stale, and a peer consumer gets what we send."""
    rsmq.create_queue("q", max_receives=3)
    first = rsmq.send("q", "x", dedup_id="order-1")
    m = rsmq.receive("q")
    assert m is not None
    rsmq.fail(m.receipt, "old life")
    assert peer.deleteQueue(qname="q").execute()
    assert peer.createQueue(qname="q").execute()
    again = rsmq.send("q", "y", dedup_id="order-1")
    assert again != first
    got = peer.receiveMessage(qname="q").execute()
    assert (got["id"], got["message"]) == (again, "y")
    assert rsmq.failed("q").total == 0
    assert rsmq.send("q", "z", dedup_id="order-1") == again  # dedup holds in the new life


def test_peers_still_read_and_write_our_queues(rsmq: RSMQ, peer: RedisSMQ) -> None:
    """Settings fields in the hash do not disturb a plain client."""
    rsmq.create_queue("q", max_receives=2, retry=None, max_messages=10, retention=3600)
    attrs = peer.getQueueAttributes(qname="q").execute()
    assert attrs["vt"] == 30
    mid = peer.sendMessage(qname="q", message="from pyrsmq").execute()
    m = rsmq.receive("q")
    assert m is not None
    assert (m.id, m.raw) == (mid, "from pyrsmq")
    ours = rsmq.send("q", "from us")
    got = peer.receiveMessage(qname="q").execute()
    assert got["id"] == ours
