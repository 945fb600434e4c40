"""Real faults: a consumer process killed with SIGKILL mid-message, Redis killed and
restarted (appendonly yes) mid-run."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
import redis

from django_rsmq.engine import RSMQ, RetryPolicy
from django_rsmq.testing import TestRedis, unique_namespace
from tests.engine.helpers import wait_for
from tests.engine.reliability.helpers import python

pytestmark = pytest.mark.slow

CONSUMER = """
import sys, time
from django_rsmq.engine import RSMQ
r = RSMQ(sys.argv[1], namespace=sys.argv[2])
deadline = time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    m = r.receive("q", vt=0.3)
    if m is not None:
        print("got", m.id, m.rc, m.fr, flush=True)
        time.sleep(60)  # "working" on it: the test kills us here
    time.sleep(0.02)
print("idle", flush=True)
"""


def _kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    if proc.stdout:
        proc.stdout.close()
    if proc.stderr:
        proc.stderr.close()


def test_consumer_killed_mid_message_is_redelivered_then_dead_lettered(
    rsmq: RSMQ, test_redis: TestRedis
) -> None:
    rsmq.create_queue("q", max_receives=2)
    mid = rsmq.send("q", {"job": 1})
    frs = []
    for delivery in (1, 2):
        proc = python(CONSUMER, test_redis.url, rsmq.namespace, "10")
        assert proc.stdout is not None
        line = proc.stdout.readline().split()  # bounded: the consumer gives up after 10 s
        assert line[:3] == ["got", mid, str(delivery)], line
        frs.append(int(line[3]))
        _kill(proc)  # SIGKILL while "working": no ack, no nack
        assert rsmq.get_queue_attributes("q").in_flight == 1
    # A third consumer finds the message visible after vt but it was received
    # max_receives times: the receive script moves it to the DLQ instead.
    proc = python(CONSUMER, test_redis.url, rsmq.namespace, "10")
    wait_for(lambda: rsmq.dead_letter_info("q-dlq", mid), timeout=5, what="dead-lettering")
    os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=10)
    assert "got" not in out  # never delivered once more
    info = rsmq.dead_letter_info("q-dlq", mid)
    assert info is not None
    assert (info.queue, info.message_id, info.rc, info.reason) == ("q", mid, 2, "max_receives")
    assert info.first_received == frs[0]
    assert info.last_received is not None
    assert info.last_received >= frs[0]
    assert rsmq.get_queue_attributes("q").msgs == 0
    dl = rsmq.receive("q-dlq")
    assert dl is not None
    assert (dl.id, dl.body) == (mid, {"job": 1})


@pytest.mark.parametrize("hard", [True, False], ids=["sigkill", "shutdown"])
def test_redis_killed_and_restarted_loses_nothing(own_redis: TestRedis, hard: bool) -> None:
    assert own_redis.server is not None
    ns = unique_namespace()
    client = own_redis.client()
    r = RSMQ(client, namespace=ns)
    r.create_queue("q", max_receives=2, retry=RetryPolicy.fixed(0), max_messages=100)
    sent = [r.send("q", f"m{i}", dedup_id=f"d{i}") for i in range(20)]
    got = r._run(r.protocol.receive("q", r.serializer, vt=0.3, count=12))
    acked = {m.id for m in got[:6]}
    for m in got[:6]:
        r.ack(m.receipt)
    failed = r.fail(got[6].receipt, ValueError("before the crash"))
    r.nack(got[7].receipt, delay=0)
    # One message that reached the DLQ (on a queue with max_receives=1).
    r.create_queue("q2", max_receives=1)
    doomed = r.send("q2", "doomed")
    m = r.receive("q2")
    assert m is not None
    assert r.fail(m.receipt, "fatal").dead_lettered

    # Mid-run: SIGKILL (appendfsync always: nothing acknowledged is lost) or a clean stop.
    own_redis.server.kill() if hard else own_redis.server.stop()
    client.close()
    with pytest.raises(redis.ConnectionError):
        own_redis.client().ping()
    own_redis.server.start()

    client = own_redis.client()
    r = RSMQ(client, namespace=ns)
    attrs = r.get_queue_attributes("q")
    assert (attrs.max_receives, attrs.dead_letter_queue, attrs.max_messages) == (2, "q-dlq", 100)
    assert attrs.retry == RetryPolicy.fixed(0)
    assert r.send("q", "again", dedup_id="d3") == sent[3]  # dedup window survived
    assert r.failed_record("q", failed.record_id).error == "before the crash"
    assert [p.id for p in r.peek("q2-dlq")] == [doomed]
    info = r.dead_letter_info("q2-dlq", doomed)
    assert info is not None
    assert (info.queue, info.error) == ("q2", "fatal")

    # Drain: every unacked message comes back (in-flight ones after their vt), no acked one.
    seen: set[str] = set()

    def drain() -> bool:
        while (m := r.receive("q", vt=30)) is not None:
            seen.add(m.id)
            r.ack(m.receipt)
        return seen | acked >= set(sent)

    wait_for(drain, timeout=5, what="all unacked messages")
    assert not seen & acked
    assert seen | acked == set(sent)
    assert r.get_queue_attributes("q").msgs == 0
    client.close()


WORKER = """
import sys, time
import redis
from django_rsmq.engine import RSMQ
r = RSMQ(sys.argv[1], namespace=sys.argv[2])
total, done, deadline = int(sys.argv[3]), set(), time.monotonic() + 20
while len(done) < total and time.monotonic() < deadline:
    try:
        m = r.receive("q", vt=0.3)
        if m is None:
            time.sleep(0.01)
            continue
        print("got", m.id, flush=True)
        print("acking", m.id, flush=True)
        r.ack(m.receipt)
        print("acked", m.id, flush=True)
        done.add(m.id)
    except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
        time.sleep(0.05)  # Redis is down: keep trying until it is back
    except Exception as exc:  # a stale receipt after redelivery: log and go on
        print("error", type(exc).__name__, flush=True)
print("exit", flush=True)
"""


def test_redis_restart_under_a_running_consumer(own_redis: TestRedis) -> None:
    """A consumer process works through the queue while Redis is killed and restarted:
    no message it acked is delivered again, and every message is acked in the end."""
    assert own_redis.server is not None
    ns = unique_namespace()
    client = own_redis.client()
    r = RSMQ(client, namespace=ns)
    r.create_queue("q")
    sent = [e.unwrap() for e in r._run(r.protocol.send_many("q", range(300), r.serializer))]
    proc = python(WORKER, own_redis.url, ns, "300")
    assert proc.stdout is not None
    # Let it get going, then pull the plug mid-run.
    head = [proc.stdout.readline() for _ in range(60)]
    assert all(head)
    own_redis.server.kill()
    client.close()
    own_redis.server.start()
    out, err = proc.communicate(timeout=30)
    lines = [line.split() for line in "".join(head).splitlines() + out.splitlines()]
    acked: set[str] = set()
    for line in lines:
        if line[0] == "got":
            assert line[1] not in acked, f"acked message {line[1]} was delivered again"
        elif line[0] == "acked":
            acked.add(line[1])
    attempted = {line[1] for line in lines if line[0] == "acking"}
    client = own_redis.client()
    r = RSMQ(client, namespace=ns)
    left = {p.id for p in r.peek("q", limit=1000)}
    assert not left & acked
    # An ack whose reply was lost in the crash is "acking" without "acked": gone or left.
    assert acked | left | attempted == set(sent)
    assert len(acked) + len(left) >= 290, (err, lines[-5:])
    client.close()
