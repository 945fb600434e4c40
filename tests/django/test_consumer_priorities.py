"""Queue priorities in a real in-process consumer on real Redis (issue 15): weighted
order (``"critical:5"`` or a mapping) and ``strict=True``.

Three queues in one fetcher group, each with a backlog larger than what is consumed,
so every receive finds all three non-empty: the queue a receive starts at is the
queue its message comes from (concurrency 1, no prefetch: one message per receive).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from django_rsmq.connections import get_rsmq
from django_rsmq.consumer import Consumer, ConsumerError
from django_rsmq.engine import Message
from django_rsmq.handlers import registry

QUEUES = ("pcrit", "pdef", "plow")


@pytest.fixture
def handled() -> Iterator[list[str]]:
    """Each of QUEUES' handlers appends its queue's name, in handling order."""
    seen: list[str] = []
    lock = threading.Lock()

    def record(message: Message) -> None:
        with lock:
            seen.append(message.queue)

    for q in QUEUES:
        registry.register(q, record)
    try:
        yield seen
    finally:
        for q in QUEUES:
            registry.unregister(q)


def _backlog(each: int) -> None:
    rsmq = get_rsmq()
    for q in QUEUES:
        rsmq.create_queue(q)
        for start in range(0, each, 1000):
            outcomes = rsmq.send_many(q, range(start, min(each, start + 1000)), realtime=False)
            assert all(o.ok for o in outcomes)


def _consume(queues: Any, n: int, **kwargs: Any) -> Consumer:
    consumer = Consumer(queues, concurrency=1, prefetch=0, max_messages=n, verbosity=0, **kwargs)
    assert consumer.run() == 0
    return consumer


# ±15% of each weight's share; N = 4000 puts the smallest share's (1/8) bound 3.6
# standard deviations out: a false failure about once in 3,000 runs.
N = 4000


@pytest.mark.parametrize(
    "queues",
    [["pcrit:5", "pdef:2", "plow:1"], {"pcrit": 5, "pdef": 2, "plow": 1}],
    ids=["strings", "mapping"],
)
def test_weighted_shares_follow_the_weights_under_backlog(handled: list[str], queues: Any) -> None:
    # More than N in each queue: even pcrit (5/8 expected) never runs dry.
    _backlog(N)
    _consume(queues, N)
    assert len(handled) == N
    counts = Counter(handled)
    for q, weight in zip(QUEUES, (5, 2, 1), strict=True):
        expected = weight / 8
        share = counts[q] / N
        assert abs(share - expected) <= 0.15 * expected, (q, share, expected, counts)
    # And nothing starves: the lowest queue is served early, not after the others.
    assert "plow" in handled[:200]


def test_strict_drains_the_first_queue_before_the_others(handled: list[str]) -> None:
    _backlog(30)
    consumer = Consumer(
        ["pcrit", "pdef", "plow"], strict=True, concurrency=1, prefetch=0, burst=True, verbosity=0
    )
    assert consumer.run() == 0
    assert handled == ["pcrit"] * 30 + ["pdef"] * 30 + ["plow"] * 30


@pytest.mark.parametrize(
    ("queues", "strict", "error"),
    [
        (["pcrit:0"], False, "bad queue weight in 'pcrit:0'"),
        (["pcrit:x"], False, "bad queue weight in 'pcrit:x'"),
        ({"pcrit": 0}, False, "bad queue weight in 'pcrit:0'"),
        ({"pcrit": 1.5}, False, "bad queue weight in 'pcrit:1.5'"),
        (["pcrit:2", "pdef"], True, "--strict orders the queues as given"),
        ([], True, "--strict needs the queues named"),
    ],
)
def test_bad_weights_are_a_configuration_error(queues: Any, strict: bool, error: str) -> None:
    with pytest.raises(ConsumerError, match=re.escape(error)) as info:
        Consumer(queues, strict=strict)
    assert info.value.exit_code == 2
    assert "\n" not in str(info.value)
