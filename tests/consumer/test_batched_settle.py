"""``rsmq_consume`` with batched acks as a real process: a warm stop flushes the
pending acks, a kill leaves them to redelivery (issue 19)."""

from __future__ import annotations

import signal

import pytest

from django_rsmq import send

from .conftest import ConsumerProcess, Env

pytestmark = pytest.mark.slow


def _slow_ack_consumer(env: Env, *args: str) -> ConsumerProcess:
    environ = env.environ()
    environ["DJANGO_SETTINGS_MODULE"] = "tests.consumer.settings_slowack"
    p = ConsumerProcess(["work", *args], environ)
    env.procs.append(p)
    return p


def test_sigterm_flushes_pending_acks_and_nothing_is_redelivered(env: Env) -> None:
    ids = [send("work", {"n": i}) for i in range(4)]
    c = _slow_ack_consumer(env, "-c", "2", "--prefetch", "2")
    c.wait_line("prefetch 2")
    env.wait_events("done", 4)
    assert env.rsmq.get_queue_attributes("work").msgs == 4  # handled, acks pending
    c.signal(signal.SIGTERM)
    assert c.wait() == 0
    assert env.rsmq.get_queue_attributes("work").msgs == 0
    assert sorted(e[2] for e in env.events("done")) == sorted(ids)
    assert "processed 4" in c.output()


def test_sigkill_with_pending_acks_redelivers_every_message(env: Env) -> None:
    ids = [send("work", {"n": i}) for i in range(3)]
    c = _slow_ack_consumer(env)
    env.wait_events("done", 3)
    c.proc.kill()
    c.wait()
    back = []
    env.wait_for(
        lambda: back.extend(env.rsmq.receive_many("work", 10)) or len(back) >= 3,
        what="redelivery after vt",
    )
    assert sorted(m.id for m in back) == sorted(ids)  # none lost
    assert {m.rc for m in back} == {2}
