"""Requeue all / purge all of a 50k-message DLQ from the admin: bounded chunks, and a run
cut short is finished by the next one without moving any message twice.

Measured on a private Redis two ways: Redis' own CPU time per chunk call (INFO cpu around
each call: what the call costs, whatever else the host runs) must stay under 50 ms; and
SLOWLOG's wall time of every call of the admin's run, best of 3 runs, under 50 ms — that
one is asserted only when the host is not overloaded (load average <= cores), since a
Redis descheduled mid-call shows the whole wait in SLOWLOG."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.test import override_settings

from django_rsmq.connections import get_rsmq
from django_rsmq.engine import RSMQ, Keys
from django_rsmq.operations import redrive
from django_rsmq.operations.queues import ensure_queue
from django_rsmq.testing import TestRedis
from tests.admin.conftest import QUEUES
from tests.settings import rsmq_setting

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

BASE = "/admin/django_rsmq/queue"
N = 50_000
STALL_US = 50_000  # 50 ms


@pytest.fixture
def private(own_redis: TestRedis, namespace: str) -> Iterator[tuple[RSMQ, redis.Redis]]:
    setting = rsmq_setting(own_redis.url, namespace)
    setting["QUEUES"] = QUEUES
    with override_settings(RSMQ=setting):
        for name in QUEUES:
            ensure_queue(name)
        client = own_redis.client()
        client.config_set("slowlog-log-slower-than", 5_000)  # kept: >= 5 ms
        client.config_set("slowlog-max-len", 100_000)
        yield get_rsmq(), client
        client.close()


def fill_dlq(engine: RSMQ, client: redis.Redis, n: int = N) -> list[str]:
    """``n`` dead letters of "emails" in "emails-dlq", as dead_letter() leaves them
    (written directly: sending and failing 50k messages would take minutes)."""
    keys = Keys(engine.namespace)
    src, dlq = keys.queue("emails"), keys.queue("emails-dlq")
    target = json.loads(src.as_target())
    pipe = client.pipeline(transaction=False)
    ids = []
    base = 1_700_000_000_000_000
    for i in range(n):
        mid = f"{base + i:x}".rjust(10, "0")[:10] + f"{i:022d}"
        ids.append(mid)
        pipe.zadd(dlq.zset, {mid: 1_700_000_000_000 + i})
        pipe.hset(dlq.hash, mid, json.dumps({"n": i, "pad": "x" * 200}))
        info = {
            "src": target,
            "rc": 2,
            "at": 1_700_000_000_000,
            "reason": "failed",
            "err": {"type": "ValueError", "message": f"boom {i}"},
        }
        pipe.hset(dlq.meta, f"{mid}:dl", json.dumps(info))
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()
    return ids


def slowest(client: redis.Redis) -> int:
    """The longest script call (µs) SLOWLOG saw since its last reset."""
    entries = [e for e in client.slowlog_get(100_000) if e["command"].startswith(b"EVAL")]
    return max((int(e["duration"]) for e in entries), default=0)


def best_of_3(measure: Callable[[], int]) -> int:
    """``measure()`` (the slowest call of a run, µs) until one run stays under 50 ms, at
    most 3 times: the work per call is fixed, but on a loaded shared host one call now
    and then is descheduled mid-way, which SLOWLOG counts too."""
    runs = []
    for _ in range(3):
        runs.append(measure())
        if runs[-1] < STALL_US:
            break
    print("slowest call per run (us):", runs)
    return min(runs)


def cpu_us(client: redis.Redis) -> float:
    info = client.info("cpu")
    return (float(info["used_cpu_user"]) + float(info["used_cpu_sys"])) * 1e6


def max_cpu_per_call(client: redis.Redis, step: Callable[[], bool]) -> float:
    """Run ``step()`` (one chunk call; False when nothing is left) until done, and return
    the most Redis CPU time (µs) one of them took."""
    worst = 0.0
    while True:
        before = cpu_us(client)
        more = step()
        worst = max(worst, cpu_us(client) - before)
        if not more:
            return worst


def check_wall_time(slowest_us: int) -> None:
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    print(f"slowest call (wall, best of 3): {slowest_us} us at load {load:.1f} on {cores} cores")
    if load <= cores:
        assert slowest_us < STALL_US


def test_each_chunk_call_costs_redis_under_50ms(private: tuple[RSMQ, redis.Redis]) -> None:
    engine, client = private
    fill_dlq(engine, client)
    from django_rsmq.engine.redrive import CHUNK

    def move() -> bool:
        return bool(engine.redrive("emails-dlq", limit=CHUNK, default_to="emails").moved)

    def drain() -> bool:
        return engine.drain("emails-dlq", redrive.PURGE_CHUNK)[1] > 0

    # Best of up to 3 runs: the work per call is fixed, but INFO's CPU counters also
    # take in what the server does meanwhile (cron, rehashing), which a loaded host
    # stretches; one run under the bound shows the calls themselves are short.
    moves = drains = float("inf")
    for attempt in range(3):
        if attempt:
            fill_dlq(engine, client)
        moves = min(moves, max_cpu_per_call(client, move))
        assert engine.get_queue_attributes("emails").msgs == N
        engine.purge("emails")
        fill_dlq(engine, client)
        drains = min(drains, max_cpu_per_call(client, drain))
        if max(moves, drains) < STALL_US:
            break
    print(f"most Redis CPU per call: redrive {moves:.0f} us, drain {drains:.0f} us")
    assert moves < STALL_US
    assert drains < STALL_US
    assert engine.get_queue_attributes("emails-dlq").msgs == 0


def test_requeue_all_of_a_50k_dlq_runs_in_short_calls_and_a_rerun_finishes(
    private: tuple[RSMQ, redis.Redis], client_for: Any
) -> None:
    engine, client = private
    web = client_for()

    def measure() -> int:
        engine.purge("emails")
        fill_dlq(engine, client)
        assert web.get(f"{BASE}/q/emails/dlq/all/requeue/").context["count"] == N
        # a first run cut short (a crash after 20,000): those moved left the DLQ
        assert redrive.dlq_requeue("emails", limit=20_000).moved == 20_000
        client.slowlog_reset()
        r = web.post(f"{BASE}/q/emails/dlq/all/requeue/", follow=True)
        assert [str(m) for m in r.context["messages"]] == [f"Requeued {N - 20_000}"]
        assert engine.get_queue_attributes("emails-dlq").msgs == 0
        assert engine.get_queue_attributes("emails").msgs == N  # each exactly once
        return slowest(client)

    check_wall_time(best_of_3(measure))


def test_purge_all_of_a_50k_dlq_runs_in_short_calls_and_a_rerun_finishes(
    private: tuple[RSMQ, redis.Redis], client_for: Any
) -> None:
    engine, client = private
    web = client_for()

    def measure() -> int:
        fill_dlq(engine, client)
        engine.drain("emails-dlq", 700)  # a run cut short
        client.slowlog_reset()
        confirm = web.get(f"{BASE}/q/emails/dlq/all/purge/")
        assert confirm.context["count"] == N - 700
        assert "Redis call" in confirm.context["cost"]
        r = web.post(f"{BASE}/q/emails/dlq/all/purge/", follow=True)
        assert [str(m) for m in r.context["messages"]] == [f"Purged {N - 700}"]
        return slowest(client)

    check_wall_time(best_of_3(measure))
    keys = Keys(engine.namespace).queue("emails-dlq")
    assert client.zcard(keys.zset) == 0
    assert client.hlen(keys.meta) == 0
    assert set(client.hkeys(keys.hash)) <= {
        b"vt",
        b"delay",
        b"maxsize",
        b"created",
        b"modified",
        b"totalsent",
        b"totalrecv",
    }
