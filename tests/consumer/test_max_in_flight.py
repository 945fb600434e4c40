"""A queue's concurrency cap holds across real consumer processes: three ``rsmq_consume
-c 4`` on a ``max_in_flight=2`` queue never run more than 2 of its handlers at once (as
the handlers count them), and a consumer killed with SIGKILL gives its slot back when its
visibility timeout passes, to a consumer that was waiting for it."""

from __future__ import annotations

import signal

from django_rsmq.engine import Entry

from .conftest import SIGTERM, Env


def _running_at_most(events: list[list[str]]) -> int:
    """The most handlers running at once: starts minus dones, in the order they were
    recorded (one Redis list). A start is recorded after its receive and a done before its
    ack, so this never overstates what held a slot."""
    running = most = 0
    for e in events:
        if e[0] == "start":
            running += 1
            most = max(most, running)
        elif e[0] == "done":
            running -= 1
    return most


def test_two_in_flight_across_three_processes_of_four_workers(env: Env) -> None:
    env.rsmq.create_queue("work", vt=5, max_in_flight=2)
    env.rsmq.send_many("work", [Entry({"sleep": 0.15, "n": i}) for i in range(30)])
    procs = [env.consumer("work", "-c", "4") for _ in range(3)]
    for p in procs:
        p.wait_line("started")
    env.wait_events("done", 30, timeout=60)
    for p in procs:
        p.signal(SIGTERM)
    for p in procs:
        assert p.wait() == 0
    events = env.events()
    assert _running_at_most(events) == 2  # the cap, and reached (12 workers were free)
    assert len({e[2] for e in env.events("done")}) == 30
    assert len({e[4] for e in env.events("start")}) >= 2, "the slots went round"
    assert env.rsmq.get_queue_attributes("work").msgs == 0


def test_a_killed_consumers_slot_comes_back_after_its_visibility_timeout(env: Env) -> None:
    env.rsmq.create_queue("work", vt=2, max_in_flight=1)
    procs = {}
    for _ in range(2):
        p = env.consumer("work", "-c", "4")
        p.wait_line("started")
        procs[p.proc.pid] = p
    env.rsmq.send("work", {"sleep_first": 60})  # its first delivery never finishes
    (start,) = env.wait_events("start", 1)
    holder, mid = int(start[4]), start[2]
    procs[holder].signal(signal.SIGKILL)
    assert procs[holder].wait() == -signal.SIGKILL
    # The lease as the killed consumer's visibility keeper last left it (Redis ms).
    lease = float(env.client.zscore(f"{env.namespace}:work:inflight", mid) or 0)
    assert lease > 0
    env.rsmq.send_many("work", [Entry({"n": i}) for i in range(3)])
    # the survivor takes them, and the killed message again, but only once the slot is back
    done = env.wait_events("done", 4, timeout=30)
    (survivor,) = set(procs) - {holder}
    after = [e for e in env.events("start") if e[4] == str(survivor)]
    assert len(after) == 4
    assert min(float(e[5]) for e in after) >= lease - 5  # same host: Redis' clock is ours
    assert {e[2] for e in done} >= {mid}
    procs[survivor].signal(SIGTERM)
    assert procs[survivor].wait() == 0
