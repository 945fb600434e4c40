"""get_queue_attributes' visible / in-flight / delayed counts (issue 19): exact through
every state change django-rsmq makes and through a plain RSMQ client's sends, bounded (and
self-correcting) for a plain client's receives, deletes and visibility changes; and a cost
that does not grow with the number of messages in flight."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from django_rsmq.engine import RSMQ, Keys
from django_rsmq.engine.ids import new_id
from django_rsmq.testing import TestRedis

from .helpers import b36, redis_ms, redis_us, wait_for


def truth(raw: redis.Redis, keys: Keys, q: str) -> tuple[int, int, int]:
    """visible, in flight, delayed by the definition (walks the whole queue: tests only):
    in flight = hidden after a receive, and not waiting for a nack/fail retry (whose
    delivery is settled: meta ``{id}:st`` = its rc)."""
    k = keys.queue(q)
    now = redis_ms(raw)
    visible = in_flight = delayed = 0
    for mid, score in raw.zrange(k.zset, 0, -1, withscores=True):
        if score <= now:
            visible += 1
        elif (rc := raw.hget(k.hash, f"{mid}:rc")) is not None and raw.hget(
            k.meta, f"{mid}:st"
        ) != rc:
            in_flight += 1
        else:
            delayed += 1
    return visible, in_flight, delayed


def counts(rsmq: RSMQ, q: str) -> tuple[int, int, int]:
    a = rsmq.get_queue_attributes(q)
    assert a.visible + a.in_flight + a.delayed == a.msgs
    return a.visible, a.in_flight, a.delayed


def check(rsmq: RSMQ, raw: redis.Redis, keys: Keys, q: str, want: tuple[int, int, int]) -> None:
    assert counts(rsmq, q) == truth(raw, keys, q) == want


def peer_send(raw: redis.Redis, keys: Keys, q: str, body: str, delay_s: int = 0) -> str:
    """Node rsmq's sendMessage, command for command (TIME, then one MULTI)."""
    k = keys.queue(q)
    sec, usec = raw.time()
    mid = new_id()
    pipe = raw.pipeline(transaction=True)
    pipe.zadd(k.zset, {mid: sec * 1000 + usec // 1000 + delay_s * 1000})
    pipe.hset(k.hash, mid, body)
    pipe.hincrby(k.hash, "totalsent", 1)
    pipe.execute()
    return mid


def peer_receive(raw: redis.Redis, keys: Keys, q: str, vt_s: int) -> str:
    """Node rsmq's receiveMessage script, step for step, as plain commands."""
    k = keys.queue(q)
    now = redis_ms(raw)
    mid = raw.zrangebyscore(k.zset, "-inf", now, start=0, num=1)[0]
    raw.zadd(k.zset, {mid: now + vt_s * 1000})
    raw.hincrby(k.hash, "totalrecv", 1)
    if raw.hincrby(k.hash, f"{mid}:rc", 1) == 1:
        raw.hset(k.hash, f"{mid}:fr", now)
    return str(mid)


def test_exact_through_our_state_changes(rsmq: RSMQ, raw: redis.Redis, keys: Keys) -> None:
    rsmq.create_queue("q", vt=100)
    check(rsmq, raw, keys, "q", (0, 0, 0))
    for i in range(4):
        rsmq.send("q", f"v{i}")
    late = [rsmq.send("q", f"d{i}", delay=100) for i in range(2)]
    check(rsmq, raw, keys, "q", (4, 0, 2))
    a, b, c = rsmq.receive_many("q", 3)
    check(rsmq, raw, keys, "q", (1, 3, 2))
    assert rsmq.receive("q", vt=0) is not None  # received, but visible again at once
    check(rsmq, raw, keys, "q", (1, 3, 2))
    rsmq.change_visibility_by_receipt(a, 200)  # the consumer's keeper extends: in flight
    check(rsmq, raw, keys, "q", (1, 3, 2))
    rsmq.change_visibility("q", b.id, 0)  # by bare id: visible again
    check(rsmq, raw, keys, "q", (2, 2, 2))
    rsmq.change_visibility("q", b.id, 50)  # received before: in flight once hidden again
    check(rsmq, raw, keys, "q", (1, 3, 2))
    rsmq.change_visibility("q", late[0], 300)  # never received: stays delayed
    check(rsmq, raw, keys, "q", (1, 3, 2))
    rsmq.change_visibility("q", late[1], 0)  # a delayed message made visible
    check(rsmq, raw, keys, "q", (2, 3, 1))
    rsmq.ack(a)
    check(rsmq, raw, keys, "q", (2, 2, 1))
    rsmq.nack(c, delay=0)
    check(rsmq, raw, keys, "q", (3, 1, 1))
    d = rsmq.receive("q")
    assert d is not None
    check(rsmq, raw, keys, "q", (2, 2, 1))
    assert rsmq.nack(d, delay=60) == 60  # waiting for its retry: delayed, not in flight
    check(rsmq, raw, keys, "q", (2, 1, 2))
    assert rsmq.delete("q", b.id)  # by bare id, while in flight
    check(rsmq, raw, keys, "q", (2, 0, 2))
    assert rsmq.pop("q") is not None
    check(rsmq, raw, keys, "q", (1, 0, 2))
    rest = rsmq.receive_many("q", 10)
    check(rsmq, raw, keys, "q", (0, 1, 2))
    rsmq.ack_many(rest)
    check(rsmq, raw, keys, "q", (0, 0, 2))
    assert rsmq.purge("q") == 2
    check(rsmq, raw, keys, "q", (0, 0, 0))
    assert raw.exists(keys.queue("q").in_flight) == 0


def test_fail_retry_and_dead_letter(rsmq: RSMQ, raw: redis.Redis, keys: Keys) -> None:
    from django_rsmq.engine.retry import RetryPolicy

    rsmq.create_queue("q", vt=100, max_receives=2, retry=RetryPolicy.fixed(50))
    rsmq.send("q", "x")
    m = rsmq.receive("q")
    assert m is not None
    r = rsmq.fail(m, "boom")
    assert r.retry_in == 50  # hidden for the retry delay: delayed, not in flight
    check(rsmq, raw, keys, "q", (0, 0, 1))
    rsmq.change_visibility("q", m.id, 0)
    m2 = rsmq.receive("q")
    assert m2 is not None
    assert m2.id == m.id
    assert rsmq.fail(m2, "boom again").dead_lettered
    check(rsmq, raw, keys, "q", (0, 0, 0))
    check(rsmq, raw, keys, "q-dlq", (1, 0, 0))
    assert raw.zscore(keys.queue("q").in_flight, m.id) is None


def test_retention_drops_a_message_in_flight(rsmq: RSMQ, raw: redis.Redis, keys: Keys) -> None:
    rsmq.create_queue("q", vt=100)
    k = keys.queue("q")
    old = b36(redis_us(raw) - 120_000_000) + new_id()[10:]  # sent two minutes ago
    raw.hset(k.hash, old, "old")
    raw.zadd(k.zset, {old: redis_ms(raw)})
    rsmq.send("q", "new")
    assert len(rsmq.receive_many("q", 2)) == 2
    check(rsmq, raw, keys, "q", (0, 2, 0))
    rsmq.set_queue_attributes("q", retention=60)
    assert rsmq.purge_expired("q") == 1
    check(rsmq, raw, keys, "q", (0, 1, 0))
    assert raw.zscore(k.in_flight, old) is None


def test_vt_expiry_makes_in_flight_visible(rsmq: RSMQ, raw: redis.Redis, keys: Keys) -> None:
    rsmq.create_queue("q")
    rsmq.send("q", "x")
    assert rsmq.receive("q", vt=0.2) is not None
    assert counts(rsmq, "q") == (0, 1, 0)
    wait_for(lambda: counts(rsmq, "q") == (1, 0, 0), what="vt expiry")
    assert truth(raw, keys, "q") == (1, 0, 0)


def test_exact_with_a_plain_clients_sends(rsmq: RSMQ, raw: redis.Redis, keys: Keys) -> None:
    rsmq.create_queue("q", vt=100)
    peer_send(raw, keys, "q", "now")
    peer_send(raw, keys, "q", "later", delay_s=100)
    rsmq.send("q", "ours later", delay=100)
    check(rsmq, raw, keys, "q", (1, 0, 2))
    m = rsmq.receive("q")  # the peer's message, received by us
    assert m is not None
    check(rsmq, raw, keys, "q", (0, 1, 2))
    peer_send(raw, keys, "q", "another")
    check(rsmq, raw, keys, "q", (1, 1, 2))


def test_a_plain_clients_receive_counts_as_delayed(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys
) -> None:
    """The documented bound: hidden (= in_flight + delayed) stays exact; a message a plain
    RSMQ client received is counted as delayed until its visibility timeout passes."""
    rsmq.create_queue("q", vt=100)
    rsmq.send("q", "x")
    rsmq.send("q", "y")
    peer_receive(raw, keys, "q", vt_s=100)
    assert truth(raw, keys, "q") == (1, 1, 0)
    assert counts(rsmq, "q") == (1, 0, 1)
    m = rsmq.receive("q")
    assert m is not None
    assert counts(rsmq, "q") == (0, 1, 1)


def test_a_plain_clients_delete_and_move_are_corrected(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys
) -> None:
    """A plain client's deleteMessage / changeMessageVisibility of a message we hold leaves
    its in-flight index entry behind: in_flight never exceeds what is hidden, the entry
    stops counting when its old visibility time passes, and ``sweep`` corrects it."""
    rsmq.create_queue("q", vt=100)
    k = keys.queue("q")
    held = [rsmq.send("q", f"m{i}") for i in range(3)]
    rsmq.send("q", "delayed", delay=100)
    got = rsmq.receive_many("q", 3)
    assert [m.id for m in got] == held
    raw.zrem(k.zset, held[0])  # Node deleteMessage: ZREM + HDEL
    raw.hdel(k.hash, held[0], f"{held[0]}:rc", f"{held[0]}:fr")
    raw.zadd(k.zset, {held[1]: redis_ms(raw) - 1})  # Node changeMessageVisibility vt=0
    raw.zadd(k.zset, {held[2]: redis_ms(raw) + 500_000})  # ... and a longer one
    assert truth(raw, keys, "q") == (1, 1, 1)
    v, f, d = counts(rsmq, "q")
    assert (v, f + d) == (1, 2)  # exact part; the stale entry can only shift the split
    rsmq.sweep("q")
    assert counts(rsmq, "q") == truth(raw, keys, "q") == (1, 1, 1)
    assert raw.zscore(k.in_flight, held[0]) is None
    assert raw.zscore(k.in_flight, held[2]) == raw.zscore(k.zset, held[2])


def test_sweep_and_peer_delete_queue_drop_the_index(
    rsmq: RSMQ, raw: redis.Redis, keys: Keys
) -> None:
    rsmq.create_queue("q")
    k = keys.queue("q")
    rsmq.send("q", "x")
    assert rsmq.receive("q") is not None
    assert raw.zcard(k.in_flight) == 1
    raw.delete(k.hash, k.zset)  # Node deleteQueue
    raw.srem(keys.queues, "q")
    rsmq.sweep("q")
    assert raw.exists(k.in_flight) == 0
    rsmq.create_queue("q")
    rsmq.send("q", "y")
    assert rsmq.receive("q") is not None
    rsmq.delete_queue("q")
    assert raw.exists(k.in_flight) == 0


def _commands_per_call(client: redis.Redis, rsmq: RSMQ, q: str) -> dict[str, int]:
    """Redis commands run by one get_queue_attributes call (INFO commandstats, which
    counts the commands a script runs), the EVALSHA itself and the bookkeeping aside."""
    rsmq.get_queue_attributes(q)  # the script is loaded
    client.config_resetstat()
    rsmq.get_queue_attributes(q)
    stats: dict[str, Any] = client.info("commandstats")
    skip = {"cmdstat_evalsha", "cmdstat_eval", "cmdstat_config", "cmdstat_info"}
    return {k: int(v["calls"]) for k, v in stats.items() if k not in skip}


@pytest.mark.parametrize("state", ["in flight", "delayed", "visible"])
def test_cost_does_not_depend_on_the_queue_size(own_redis: TestRedis, state: str) -> None:
    """Deterministic stand-in for "a few ms at any size": the same commands, each O(log n)
    or O(1), whether 1 or 3000 messages are in flight (the old script ran one HEXISTS per
    hidden message and paged from the start: quadratic)."""
    client = own_redis.client()
    rsmq = RSMQ(client, namespace="cost")
    per_size = []
    for n in (1, 3000):
        name = f"q{n}"
        rsmq.create_queue(name, vt=3600)
        for first in range(0, n, 1000):  # batches hold at most 1000
            size = min(1000, n - first)
            rsmq.send_many(name, ["x"] * size, delay=3600 if state == "delayed" else None)
            if state == "in flight":
                assert len(rsmq.receive_many(name, size)) == size
        a = rsmq.get_queue_attributes(name)
        assert (a.visible, a.in_flight, a.delayed) == {
            "in flight": (0, n, 0),
            "delayed": (0, 0, n),
            "visible": (n, 0, 0),
        }[state]
        per_size.append(_commands_per_call(client, rsmq, name))
    assert per_size[0] == per_size[1]
    assert sum(per_size[0].values()) <= 10
    client.close()
