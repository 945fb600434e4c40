"""The fault suite: numbered messages, a live producer, real ``rsmq_consume`` processes
and a fault each; every scenario prints ``sent= processed= lost= duplicated= outage=``
and asserts nothing acknowledged was lost (docs/reliability.md, "The fault suite")."""

from __future__ import annotations

import os
import signal
import time

import pytest
import redis

from django_rsmq.consumer.worker import ExitCode
from django_rsmq.engine import RSMQ, scripts
from django_rsmq.engine.keys import Keys

from .harness import TAG, Harness, wait_for
from .proxy import FaultProxy

pytestmark = [pytest.mark.faults, pytest.mark.slow]

CONCURRENCY = 2


def test_sigkill_consumers_every_second_under_load() -> None:
    with Harness.running() as h:
        h.create_queues("fa")
        for _ in range(3):
            h.consumer("fa", "-c", str(CONCURRENCY))
        p = h.producer(["fa"], extra=lambda n: {"sleep": 0.02})
        p.start()
        kills = 0
        for _ in range(6):
            time.sleep(1)  # the fault's cadence
            victim = next(c for c in h.consumers if c.proc.poll() is None)
            os.kill(victim.proc.pid, signal.SIGKILL)
            victim.wait()
            kills += 1
            h.consumer("fa", "-c", str(CONCURRENCY), wait=False)
        p.stop()
        settled = h.settle(p, ["fa"])
        rep = h.report("sigkill-consumers", p)
        assert rep.lost == [], rep
        assert rep.dup_sends == [], rep
        assert rep.duplicated <= kills * CONCURRENCY, rep
        assert settled, (rep, h.msgs("fa"))


@pytest.mark.parametrize("fsync", ["everysec", "always"])
@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_redis_restarts_under_load(how: str, fsync: str) -> None:
    with Harness.running(fsync) as h:
        h.create_queues("fa")
        consumers = [h.consumer("fa", "-c", str(CONCURRENCY)) for _ in range(2)]
        p = h.producer(["fa"], extra=lambda n: {"sleep": 0.02})
        p.start()
        restarts = 2
        for _ in range(restarts):
            time.sleep(1.5)  # the fault's cadence
            h.term() if how == "sigterm" else h.kill()
            h.start()
        time.sleep(1.5)  # load after the last restart
        p.stop()
        settled = h.settle(p, ["fa"])
        rep = h.report(f"redis-{how}-{fsync}", p)
        assert rep.lost == [], rep
        # in flight at each restart: a handler run recorded whose ack did not make it,
        # per worker; plus a send whose reply the restart cut (redis-py retries it)
        bound = restarts * (len(consumers) * CONCURRENCY + 1)
        assert rep.duplicated <= bound, rep
        assert settled, (rep, h.msgs("fa"))
        assert all(c.proc.poll() is None for c in consumers), h.output()


def test_proxy_drops_replies_and_cuts_connections() -> None:
    """Producer and consumers talk to Redis through a proxy that, in turn, loses the
    reply of a send, of a receive and of an ack (the command ran in Redis, the client
    saw its connection cut) and cuts every connection."""
    with Harness.running() as h, FaultProxy(h.port) as proxy:
        h.create_queues("fa")
        for _ in range(2):
            h.consumer("fa", "-c", str(CONCURRENCY), url=proxy.url)
        p = h.producer(["fa"], url=proxy.url)
        p.start()
        faults = [
            lambda: proxy.drop_reply_after(TAG.encode()),
            lambda: proxy.drop_reply_after(scripts.get("receive").sha_bytes),
            lambda: proxy.drop_reply_after(scripts.get("delete").sha_bytes),
            proxy.cut,
        ]
        for i in range(20):
            time.sleep(0.3)  # the fault's cadence
            faults[i % len(faults)]()
        time.sleep(1)
        p.stop()
        settled = h.settle(p, ["fa"])
        rep = h.report("proxy", p)
        assert proxy.dropped >= 5, proxy.dropped
        assert rep.lost == [], rep
        assert rep.dup_sends == [], rep  # no send ran twice because its reply was lost
        assert rep.duplicated <= 20 * CONCURRENCY, rep
        assert settled, (rep, h.msgs("fa"))  # no message left hidden, never returned

        # A receive whose reply was lost hid a message: it must not look empty.
        h.create_queues("fb")  # consumed by nobody
        mq = RSMQ(redis.Redis.from_url(proxy.url, socket_timeout=2), namespace=h.namespace)
        assert mq.receive("fb") is None  # the script is in Redis' cache: no NOSCRIPT
        mid = h.mq.send("fb", {"n": -1})
        proxy.drop_reply_after(Keys(h.namespace).queue("fb").hash.encode())
        try:
            got: object = mq.receive("fb")
        except Exception as exc:  # it raises; the message comes back after its vt
            got = exc
        mq.close()
        mq.client.close()
        assert got is not None, "a receive whose reply was lost returned nothing"
        back = wait_for(lambda: h.mq.receive("fb"), 5, "the hidden message to come back")
        assert back is not None
        assert back.id == mid


def test_queue_deleted_under_a_consumer_of_several_queues() -> None:
    with Harness.running() as h:
        h.create_queues("fa", "fb")
        h.consumer("fa", "fb", "-c", str(CONCURRENCY))
        pa = h.producer(["fa"], interval=0.02)
        pb = h.producer(["fb"], interval=0.02, first=1_000_000)
        pa.start()
        pb.start()
        time.sleep(1.5)  # load on both queues
        pb.stop()
        h.mq.delete_queue("fb")
        deleted_at = time.time()
        time.sleep(2.5)  # load on the queue left
        pa.stop()
        settled = h.settle(pa, ["fa"], timeout=6)
        rep = h.report("deleted-queue", pa)
        assert rep.lost == [], (rep, h.output()[-2000:])
        after = [r for r in h.records() if r.queue == "fa" and r.at > deleted_at]
        assert after, rep  # it kept serving fa
        assert rep.outage < 4, rep
        assert rep.duplicated == 0, rep
        assert settled, (rep, h.msgs("fa"))


def test_poison_messages_among_good_ones() -> None:
    q, dlq = "fpoison", "fpoison-dlq"
    with Harness.running() as h:
        h.create_queues(dlq, q)
        keys = Keys(h.namespace).queue(q)
        p = h.producer([q], interval=0.02)
        for _ in range(5):
            p.send(q)
        bad_rc = h.mq.send(q, {"poison": "rc"})
        h.client.hset(keys.hash, f"{bad_rc}:rc", "x")  # a peer's or a hand edit
        no_body = h.mq.send(q, {"poison": "body"})
        h.client.hdel(keys.hash, no_body)
        h.client.zadd(keys.zset, {"not-an-id": 0})  # a member that is no message id
        for _ in range(5):
            p.send(q)
        h.consumer(q, "-c", str(CONCURRENCY))
        p.start()
        time.sleep(2)  # good messages keep coming
        p.stop()
        settled = h.settle(p, [q], timeout=6)
        rep = h.report("poison", p)
        assert rep.lost == [], (rep, h.output()[-2000:])
        assert rep.duplicated == 0, rep
        assert settled, (rep, h.client.zrange(keys.zset, 0, -1))
        # The queue has a DLQ: each poison message is there with its reason, nothing else.
        reasons = {}
        for m in h.mq.peek(dlq, limit=100):
            info = h.mq.dead_letter_info(dlq, m.id)
            assert info is not None, m.id
            reasons[m.id] = info.reason
        assert reasons.pop(bad_rc) == "malformed_rc", reasons
        assert reasons.pop(no_body) == "missing_body", reasons
        assert list(reasons.values()) == ["invalid_id"], reasons  # under a fresh id
        assert h.client.zscore(keys.zset, "not-an-id") is None


def test_handler_raising_system_exit_strands_nothing() -> None:
    q = "fexit"
    with Harness.running() as h:
        h.create_queues(q)
        exit_n = 20
        p = h.producer([q], interval=0.02, extra=lambda n: {"exit": 1} if n == exit_n else {})
        codes: list[int] = []

        def supervise() -> None:
            """Like systemd's Restart=always: a consumer that stopped is replaced."""
            c = h.consumers[-1]
            if c.proc.poll() is not None:
                codes.append(c.proc.returncode)
                h.consumer(q, wait=False)

        h.consumer(q)
        p.start()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            supervise()
            time.sleep(0.1)
        p.stop()
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not set(p.acked) <= {r.n for r in h.records()}:
            supervise()
            time.sleep(0.1)
        settled = h.wait_empty([q], timeout=3)
        rep = h.report("system-exit", p)
        assert rep.lost == [], (rep, codes, h.output()[-2000:])
        # a consumer that stopped did so with a documented, non-zero exit code
        assert set(codes) <= {int(c) for c in ExitCode} - {0}, codes
        failures = [f for f in h.mq.failed(q, limit=100).items if "SystemExit" in f.exc_type]
        assert [f.message_id for f in failures] == [p.acked[exit_n]], failures
        assert rep.duplicated == 0, rep
        assert settled, (rep, h.msgs(q))


def test_out_of_memory_mid_run_then_memory_freed() -> None:
    with Harness.running() as h:
        h.create_queues("fa")
        h.consumer("fa", "-c", str(CONCURRENCY))
        p = h.producer(["fa"], interval=0.02)
        p.start()
        time.sleep(1)
        long_n = p.send("fa", sleep=2)  # held by the keeper through the OOM
        h.wait_for_start(long_n)
        h.client.config_set("maxmemory-policy", "noeviction")
        h.client.config_set("maxmemory", 1)  # every write is refused: OOM
        oom_from = time.time()
        time.sleep(1.5)  # the outage
        h.client.config_set("maxmemory", 0)  # memory freed
        freed_at = time.time()
        time.sleep(0.5)
        after_n = p.send("fa", sleep=2)  # longer than the vt: the keeper must extend it
        time.sleep(1.5)  # load after recovery
        p.stop()
        settled = h.settle(p, ["fa"], timeout=8)
        rep = h.report("oom", p)
        assert p.errors, "no send was refused: the OOM did not happen"
        assert rep.lost == [], (rep, h.output()[-2000:])
        assert settled, (rep, h.msgs("fa"), h.output()[-2000:])
        runs = [r for r in h.records() if r.n == after_n]
        assert len(runs) == 1, (runs, h.output()[-2000:])  # the keeper survived the OOM
        # in flight at the OOM: each worker's message, and the long one once more when
        # it expired during the OOM (no extension could be written) and came back
        assert rep.duplicated <= CONCURRENCY + 1, rep
        resumed = [r for r in h.records() if r.at > freed_at]
        assert resumed, rep
        assert min(r.at for r in resumed) - oom_from < 8, rep
