"""Periodic messages from real ``rsmq_consume`` processes: with three consumers running
the schedule, each tick is one message; ticks that pass while none runs are skipped."""

from __future__ import annotations

import json
import time

from django_rsmq.engine.keys import Keys

from .conftest import SIGTERM, ConsumerProcess, Env


def _consumers(env: Env, n: int, schedule: dict[str, object]) -> list[ConsumerProcess]:
    environ = env.environ(RSMQ_TEST_SCHEDULE=json.dumps(schedule))
    environ["DJANGO_SETTINGS_MODULE"] = "tests.consumer.settings_periodic"
    procs = [ConsumerProcess(["work"], environ) for _ in range(n)]
    env.procs += procs
    for p in procs:
        p.wait_line("started")
    return procs


def _stop(procs: list[ConsumerProcess]) -> None:
    for p in procs:
        p.signal(SIGTERM)
    for p in procs:
        assert p.wait() == 0, p.output()


def _ticks(env: Env) -> dict[int, str]:
    """tick ms -> message id, from the dedup ids the ticks were sent with."""
    dedup = env.client.hgetall(Keys(env.namespace).queue("ticks").dedup)
    return {
        int(k.rsplit(":", 1)[1]): v.split(":", 1)[1]
        for k, v in dedup.items()
        if k.startswith("periodic:beat:")
    }


def test_three_consumers_send_each_tick_exactly_once_and_skip_missed_ticks(env: Env) -> None:
    schedule = {"beat": {"QUEUE": "ticks", "EVERY": 1, "BODY": "tick", "MISSED": "skip"}}
    procs = _consumers(env, 3, schedule)
    env.wait_for(lambda: len(_ticks(env)) >= 11, 25, "11 ticks")
    _stop(procs)
    ticks = _ticks(env)
    first, last = min(ticks), max(ticks)
    # one message per tick, no tick left out, none sent twice
    assert sorted(ticks) == list(range(first, last + 1000, 1000))
    assert len(set(ticks.values())) == len(ticks)
    assert env.msgs("ticks") == len(ticks)
    # nothing runs the schedule for a while: those ticks are missed, and "skip" drops them
    stopped_at = time.time()
    while time.time() - stopped_at < 2.5:  # the passing of time is what is tested here
        time.sleep(0.1)
    procs = _consumers(env, 1, schedule)
    env.wait_for(lambda: max(_ticks(env)) > time.time() * 1000 - 1000, 10, "a new tick")
    _stop(procs)
    after = sorted(t for t in _ticks(env) if t > last)
    assert after
    assert after[0] - last >= 3000, (last, after)  # at least 2 ticks skipped
    assert after == list(range(after[0], after[-1] + 1000, 1000))
    assert env.msgs("ticks") == len(_ticks(env))
