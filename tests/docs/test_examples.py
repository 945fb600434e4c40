"""Every runnable example in docs/examples/ runs against the test Redis and prints
what its page says it does.

Each example is a subprocess (as a reader would run it) with ``RSMQ_URL`` pointing at the
session's Redis and ``RSMQ_NAMESPACE`` at the test's own namespace.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from django_rsmq.engine import RSMQ
from django_rsmq.testing import TestRedis

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

#: example file -> lines its output must contain
EXPECTED: dict[str, list[str]] = {
    "basics.py": [
        "received {'to': 'ada@example.com', 'subject': 'Hello'} rc = 1",
        "visible=1 in_flight=0 delayed=1 sent=3",
        "peek visible plain text is fine too",
        "peek delayed {'to': 'bob@example.com'}",
    ],
    "receipts.py": [
        "slow consumer got it: rc = 1",
        "second consumer got it: rc = 2",
        "stale ack refused: 1 < 2",
        "acked by the second consumer; messages left: 0",
    ],
    "batch.py": [
        "sent: [True, True, True, False]",
        "error of the 4th: InvalidValue",
        "received: [1, 2]",
        "acked: 2",
        "left (delayed): 1",
    ],
    "retries.py": [
        "delivery 1 failed; dead-lettered=False",
        "delivery 2 failed; dead-lettered=False",
        "delivery 3 failed; dead-lettered=True",
        "failure records: 3 ConnectionError",
        "in the DLQ: {'payment': 7, 'amount': 100} from payments reason failed",
        "redriven: 1 -> visible in payments: 1",
    ],
    "long_polling.py": [
        "woken by the send: {'level': 'high'} after < 5 s: True",
        "due after its delay: {'level': 'later'}",
        "receive_from: [('pages', 'on-call')]",
        "empty queue, wait=0.2: None",
    ],
    "asyncio_basics.py": ["handled: 10 tasks, each once: True", "left: 0"],
    "outbox.py": [
        "rows after the rollback: 0",
        "rows after the commit: 1",
        "relayed: 1",
        "in Redis: [{'order': 2}]",
        "relay died; rows left: 1",
        "relayed again: 1",
        "messages in Redis for order 3: 1",
    ],
    "dedup.py": [
        "same id for the repeat: True",
        "different id for another order: True",
        "messages in the queue: 2",
    ],
}


def test_every_example_is_tested() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_and_prints_what_it_says(
    name: str, test_redis: TestRedis, namespace: str, rsmq: RSMQ
) -> None:
    env = {**os.environ, "RSMQ_URL": test_redis.url, "RSMQ_NAMESPACE": namespace}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for expected in EXPECTED[name]:
        assert expected in lines, f"{expected!r} not in the output of {name}:\n{done.stdout}"
    assert rsmq.list_queues() == []  # every example cleans up after itself
