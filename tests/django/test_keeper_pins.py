"""The visibility keeper's behaviours no other test pinned (issue 11).

Written against what the keeper and the consumer promise (track/untrack/held and what
Redis sees), not against their internals, so that they hold across rewrites of
django_rsmq/consumer/heartbeat.py. Real Redis throughout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from django_rsmq import send, signals
from django_rsmq.connections import get_rsmq
from django_rsmq.consumer import Consumer
from django_rsmq.consumer.heartbeat import VisibilityKeeper
from django_rsmq.engine import RSMQ, Keys, Message
from tests.engine.helpers import redis_ms, wait_for

VT = 0.4


@pytest.fixture
def keeper() -> Iterator[VisibilityKeeper]:
    k = VisibilityKeeper()
    k.start()
    yield k
    k.stop()


def _tracked(rsmq: RSMQ, keeper: VisibilityKeeper, raw: redis.Redis) -> tuple[Message, str]:
    """A message received with a short vt and handed to the keeper; returns it once the
    keeper has extended it at least once (so it is known to be working on it)."""
    rsmq.create_queue("k")
    rsmq.send("k", "x")
    message = rsmq.receive("k", vt=VT)
    assert message is not None
    zset = Keys(rsmq.namespace).queue("k").zset
    first = raw.zscore(zset, message.id)
    assert first is not None
    keeper.track(rsmq, message, VT, time.monotonic())
    wait_for(lambda: (raw.zscore(zset, message.id) or 0) > first, timeout=5, what="an extension")
    return message, zset


# -- 7. a stale extension drops the receipt -----------------------------------------------


@pytest.mark.parametrize("taken_by", ["another-delivery", "a-delete"])
def test_keeper_stops_extending_a_message_whose_extension_came_back_stale(
    rsmq: RSMQ, keeper: VisibilityKeeper, redis_client: redis.Redis, taken_by: str
) -> None:
    message, zset = _tracked(rsmq, keeper, redis_client)
    assert keeper.held() == 1
    other = None
    if taken_by == "another-delivery":
        # Someone made it visible and another consumer received it: our receipt is stale.
        rsmq.change_visibility("k", message.id, 0)
        other = rsmq.receive("k", vt=30)
        assert other is not None
        assert (other.id, other.rc) == (message.id, 2)
    else:
        rsmq.delete("k", message.id)  # gone: the extension finds no message
    wait_for(lambda: keeper.held() == 0, timeout=5, what="the keeper to drop the receipt")
    if other is not None:
        # The new owner's visibility timeout is its own: the keeper never touched it.
        score = redis_client.zscore(zset, message.id)
        assert score is not None
        assert score > redis_ms(redis_client) + 25_000
        rsmq.ack(other.receipt)
    else:
        assert redis_client.zscore(zset, message.id) is None


# -- 8. hidden from handler return until fail() is applied --------------------------------


@pytest.mark.slow
def test_a_failed_message_stays_hidden_until_fail_is_applied(
    rsmq: RSMQ, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "flaky" (tests/settings.py): vt 1 s, RETRY [0], MAX_RECEIVES 3, its handler raises.
    vt = 1.0
    mid = send("flaky", "x")
    engine = get_rsmq()  # the consumer's engine object for "flaky"
    real_fail = engine.fail
    stolen: list[Message] = []
    applied: list[float] = []

    def slow_fail(receipt: Any, error: Any, **kwargs: Any) -> Any:
        """The first fail() takes 1.5 vt to reach Redis (a slow network, a client
        retry): meanwhile another consumer (the test's own client) keeps looking."""
        if applied:
            return real_fail(receipt, error, **kwargs)
        deadline = time.monotonic() + 1.5 * vt
        while time.monotonic() < deadline and not stolen:
            got = rsmq.receive("flaky", vt=30)
            if got is not None:
                stolen.append(got)
            time.sleep(0.02)
        try:
            return real_fail(receipt, error, **kwargs)
        finally:
            applied.append(time.monotonic())

    received: list[tuple[int, float]] = []

    def on_received(sender: str, message: Message, **kwargs: Any) -> None:
        received.append((message.rc, time.monotonic()))

    monkeypatch.setattr(engine, "fail", slow_fail)
    signals.message_received.connect(on_received)
    try:
        done = threading.Event()
        result: list[int] = []

        def run() -> None:
            result.append(Consumer(["flaky"], burst=True, verbosity=0).run())
            done.set()

        threading.Thread(target=run, daemon=True).start()
        assert done.wait(30), "the consumer did not finish its burst"
    finally:
        signals.message_received.disconnect(on_received)
    assert stolen == [], "another consumer received the message before fail() was applied"
    assert result == [0]
    records = rsmq.failed("flaky").items
    assert [(r.message_id, r.rc) for r in records] == [(mid, 3), (mid, 2), (mid, 1)]
    assert [rc for rc, _ in received] == [1, 2, 3]
    # RETRY [0]: the retry fail() set was not overridden by a late extension (which
    # would have hidden it for another vt).
    assert received[1][1] - applied[0] < vt
