"""Handler outcomes (django_rsmq/outcomes.py) in a real ``rsmq_consume``: each one's
effect on rc, MAX_RECEIVES, the DLQ, failure records and signals (docs/django.md).

The ``outcomes`` queue (tests/settings.py) has MAX_RECEIVES 3, a 30 s RETRY delay and a
30 s visibility timeout, so nothing here comes back by the policy or the vt within the
tests' waits: only the outcome's own effect does.
"""

from __future__ import annotations

import signal

import pytest

from django_rsmq import send

from .conftest import ConsumerProcess, Env

pytestmark = pytest.mark.slow


def _consume(env: Env) -> None:
    """A consumer of ``outcomes`` whose test receivers record the signals."""
    args = ["outcomes", "-v", "2"]
    env.procs.append(ConsumerProcess(args, env.environ(RSMQ_TEST_OUTCOME_SIGNALS="1")))


def _kinds(env: Env, mid: str) -> list[str]:
    """The events of message ``mid``, in order, as ``"<event> <rc>"``."""
    return [f"{e[0]} {e[3]}" for e in env.events() if e[2] == mid]


def _stop(env: Env) -> None:
    for c in env.procs:
        c.signal(signal.SIGTERM)
        assert c.wait() == 0


def test_retry_uses_its_delay_counts_as_a_failure_and_is_bounded_by_max_receives(
    env: Env,
) -> None:
    mid = send("outcomes", {"do": "retry", "delay": 0})
    _consume(env)
    env.wait_for(lambda: env.msgs("outcomes-dlq") == 1, what="the DLQ move", timeout=15)
    env.wait_events("sig-dead", 1)
    # Delay 0 instead of the policy's 30 s: three deliveries at once, then MAX_RECEIVES.
    assert _kinds(env, mid) == [
        "start 1",
        "sig-failed-retry 1",
        "start 2",
        "sig-failed-retry 2",
        "start 3",
        "sig-failed-final 3",
        "sig-dead 3",
    ]
    records = env.rsmq.failed("outcomes").items
    assert [(r.rc, r.dead_lettered, r.retry_in, r.discarded) for r in records] == [
        (3, True, None, False),
        (2, False, 0.0, False),
        (1, False, 0.0, False),
    ]
    assert records[0].exc_type == "django_rsmq.outcomes.Retry"
    assert records[0].error == "try later"
    info = env.rsmq.dead_letter_info("outcomes-dlq", mid)
    assert info is not None
    assert (info.reason, info.rc) == ("failed", 3)
    _stop(env)


def test_snooze_comes_back_without_a_failure_but_uses_a_receive(env: Env) -> None:
    later = send("outcomes", {"do": "snooze", "delay": 0.2, "on": [1, 2]})
    forever = send("outcomes", {"do": "snooze", "delay": 0})
    _consume(env)
    env.wait_events("sig-processed", 1)
    env.wait_for(lambda: env.msgs("outcomes-dlq") == 1, what="the DLQ move", timeout=15)
    # No failure signal or record; each snooze's next delivery is a receive (rc + 1).
    assert _kinds(env, later) == ["start 1", "start 2", "start 3", "done 3", "sig-processed 3"]
    assert env.rsmq.failed("outcomes").items == []
    # Snoozed for ever: receive.lua dead-letters it at its MAX_RECEIVES + 1st receive.
    assert _kinds(env, forever) == ["start 1", "start 2", "start 3"]
    info = env.rsmq.dead_letter_info("outcomes-dlq", forever)
    assert info is not None
    assert (info.reason, info.rc) == ("max_receives", 3)
    assert env.msgs("outcomes") == 0
    _stop(env)


def test_dead_letter_goes_straight_to_the_dlq(env: Env) -> None:
    mid = send("outcomes", {"do": "dead"})
    _consume(env)
    env.wait_for(lambda: env.msgs("outcomes-dlq") == 1, what="the DLQ move", timeout=15)
    env.wait_events("sig-dead", 1)
    assert _kinds(env, mid) == ["start 1", "sig-failed-final 1", "sig-dead 1"]
    (record,) = env.rsmq.failed("outcomes").items
    assert (record.rc, record.dead_lettered, record.discarded) == (1, True, False)
    assert (record.exc_type, record.error) == ("django_rsmq.outcomes.DeadLetter", "poison")
    info = env.rsmq.dead_letter_info("outcomes-dlq", mid)
    assert info is not None
    assert (info.reason, info.rc, info.error) == ("dead_letter", 1, "poison")
    assert env.msgs("outcomes") == 0
    _stop(env)


def test_discard_drops_the_message_with_a_record(env: Env) -> None:
    mid = send("outcomes", {"do": "discard"})
    _consume(env)
    env.wait_events("sig-failed-final", 1)
    env.wait_for(lambda: env.msgs("outcomes") == 0, what="the drop")
    assert _kinds(env, mid) == ["start 1", "sig-failed-final 1"]
    (record,) = env.rsmq.failed("outcomes").items
    assert (record.rc, record.dead_lettered, record.discarded, record.retry_in) == (
        1,
        False,
        True,
        None,
    )
    assert (record.exc_type, record.error) == ("django_rsmq.outcomes.Discard", "obsolete")
    assert env.msgs("outcomes-dlq") == 0
    _stop(env)
