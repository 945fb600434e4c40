"""``rsmq_consume --processes N`` as a real process: the children share the work, each
registers itself, a signal stops them all warm, and a killed child is replaced."""

from __future__ import annotations

import os
import signal

import pytest

from django_rsmq import send
from django_rsmq.consumer.prefork import worst
from django_rsmq.engine.registry import ConsumerRegistry

from .conftest import Env

pytestmark = pytest.mark.slow


def child_pids(line: str) -> list[int]:
    """The pids of ``rsmq_consume: parent P supervising N processes (a, b)``."""
    return [int(p) for p in line.rsplit("(", 1)[1].rstrip(")").split(", ")]


def test_two_processes_share_the_messages_register_and_stop_warm(env: Env) -> None:
    c = env.consumer("work", "--processes", "2", "--prefetch", "0", "--name", "pre")
    pids = child_pids(c.wait_line("supervising 2 processes"))
    assert c.proc.pid not in pids
    c.wait_line("started")
    c.wait_line("started")
    # Sent once both listen: a child that started first cannot take them all.
    ids = [send("work", {"n": i, "sleep": 0.05}) for i in range(20)]
    done = env.wait_events("done", 20)
    assert sorted(e[2] for e in done) == sorted(ids)
    assert {int(e[4]) for e in done} == set(pids)  # both children took part
    registry = ConsumerRegistry(env.client, env.namespace)
    infos = registry.list()
    assert sorted((i.name, i.pid) for i in infos) == [("pre.1", pids[0]), ("pre.2", pids[1])]
    env.wait_for(lambda: env.msgs("work") == 0, what="acks")
    c.signal(signal.SIGTERM)
    assert c.wait() == 0
    out = c.output()
    assert out.count("stopped (exit code 0)") == 3  # two children and the parent
    assert "cold stop" not in out
    assert registry.list() == []


def test_sigterm_lets_every_childs_handler_finish(env: Env) -> None:
    ids = [send("work", {"sleep": 1.5}) for _ in range(2)]
    c = env.consumer("work", "--processes", "2", "--prefetch", "0")
    starts = env.wait_events("start", 2)
    assert len({e[4] for e in starts}) == 2  # one in each child
    c.signal(signal.SIGTERM)
    assert c.wait() == 0
    assert sorted(e[2] for e in env.events("done")) == sorted(ids)
    assert env.msgs("work") == 0  # acked, not lost


def test_second_signal_is_a_cold_stop_of_every_child_and_exits_3(env: Env) -> None:
    ids = [send("work", {"sleep_first": 30}) for _ in range(2)]
    c = env.consumer("work", "--processes", "2", "--prefetch", "0")
    starts = env.wait_events("start", 2)
    assert len({e[4] for e in starts}) == 2
    c.signal(signal.SIGTERM)
    c.wait_line("stopping")
    c.wait_line("stopping")
    c.signal(signal.SIGINT)
    assert c.wait(timeout=15) == 3
    assert c.output().count("still being handled will be delivered again") == 2
    redelivered = [env.wait_for(lambda: env.rsmq.receive("work"), what="redelivery") for _ in ids]
    assert sorted((m.id, m.rc) for m in redelivered) == sorted((i, 2) for i in ids)


def test_sigkilled_child_is_replaced_and_nothing_is_lost(env: Env) -> None:
    victim_id = send("work", {"sleep_first": 30})  # cut off in its first delivery
    c = env.consumer("work", "--processes", "2", "--prefetch", "0")
    (start,) = env.wait_events("start", 1)
    victim = int(start[4])
    os.kill(victim, signal.SIGKILL)
    line = c.wait_line("died (killed by SIGKILL)")
    assert f"pid {victim}" in line
    c.wait_line("started")
    c.wait_line("started")
    c.wait_line("started")  # the replacement
    ids = [send("work", {"n": i}) for i in range(10)]
    done = env.wait_events("done", 11, timeout=30)  # the victim's message after its vt
    assert sorted(e[2] for e in done) == sorted([victim_id, *ids])
    assert victim not in {int(e[4]) for e in done}
    env.wait_for(lambda: env.msgs("work") == 0, what="acks")
    c.signal(signal.SIGTERM)
    assert c.wait() == 0  # the replaced child's death does not count


def test_config_error_in_the_children_is_the_parents_exit_code(env: Env) -> None:
    c = env.consumer("nosuchqueue", "--processes", "2")
    assert c.wait() == 2
    assert "died" not in c.output()  # a configuration error is not retried


def test_worst_exit_code_ranks_thread_death_then_cold_then_handler_exit() -> None:
    assert worst([0, 5, 3]) == 3
    assert worst([3, 4, 0]) == 4
    assert worst([0, 5]) == 5
    assert worst([1, 2, 0]) == 2
    assert worst([0, 0]) == 0


def test_children_stop_warm_when_the_parent_is_killed(env: Env) -> None:
    mid = send("work", {"sleep": 1})
    c = env.consumer("work", "--processes", "2", "--prefetch", "0")
    env.wait_events("start", 1)
    registry = ConsumerRegistry(env.client, env.namespace)
    env.wait_for(lambda: len(registry.list()) == 2, what="both children registered")
    c.proc.kill()
    c.wait()
    # Each child sees its parent's sentinel close: warm stop, registry record removed.
    env.wait_for(lambda: registry.list() == [], what="the orphans to stop and unregister")
    assert [e[2] for e in env.events("done")] == [mid]  # the running handler finished
    assert env.msgs("work") == 0


def test_processes_below_1_is_a_configuration_error(env: Env) -> None:
    c = env.consumer("work", "--processes", "0")
    assert c.wait() == 2
    assert "--processes must be at least 1" in c.output()
