"""Batched fetch and settle, in-process on real Redis (issue 19).

Deterministic: call counts come from the consumer's own counters (a counting
wrapper around the fetcher's receive call, the settler's flush count), never from
timing. ACK_INTERVAL is set long where a test needs acks to stay pending.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from django_rsmq import send
from django_rsmq.connections import get_rsmq
from django_rsmq.consumer import Consumer
from django_rsmq.consumer import fetch as fetch_mod
from django_rsmq.engine import Message
from django_rsmq.handlers import registry
from tests.engine.helpers import wait_for


@pytest.fixture
def noop() -> Iterator[list[Message]]:
    """The ``work`` queue's handler records what it handled (and does nothing else)."""
    handled: list[Message] = []
    registry.unregister("work")
    registry.register("work", handled.append)
    try:
        yield handled
    finally:
        registry.unregister("work")
        from tests.testapp import handlers

        registry.register("work", handlers.work.func)


def _with_consumer(rsmq_setting: dict[str, Any], **consumer: Any) -> dict[str, Any]:
    return {**rsmq_setting, "CONSUMER": {**rsmq_setting["CONSUMER"], **consumer}}


def _fill(n: int) -> list[str]:
    return [send("work", str(i)) for i in range(n)]


def _run(consumer: Consumer) -> tuple[threading.Thread, list[int]]:
    codes: list[int] = []
    t = threading.Thread(target=lambda: codes.append(consumer.run()), daemon=True)
    t.start()
    return t, codes


def test_one_receive_takes_every_free_slot_and_prefetch(
    noop: list[Message], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int]] = []  # (asked for, got)
    real = fetch_mod.receive

    def counting(*args: Any, **kwargs: Any) -> list[Message]:
        got = real(*args, **kwargs)
        calls.append((args[2], len(got)))
        return got

    monkeypatch.setattr(fetch_mod, "receive", counting)
    _fill(8)
    consumer = Consumer(["work"], concurrency=2, prefetch=6, burst=True, verbosity=0)
    assert consumer.run() == 0
    assert len(noop) == 8
    assert calls[0] == (8, 8)  # 2 workers + 6 prefetched, in one call
    assert consumer.counters.processed_count == 8


def test_acks_are_coalesced_into_few_ack_many_calls(
    noop: list[Message], rsmq_on_test_redis: dict[str, Any]
) -> None:
    with override_settings(RSMQ=_with_consumer(rsmq_on_test_redis, ACK_INTERVAL=1.0)):
        r = get_rsmq()
        _fill(50)
        consumer = Consumer(["work"], concurrency=4, burst=True, verbosity=0)
        assert consumer.run() == 0
        assert consumer.settler is not None
        assert len(noop) == 50
        assert consumer.counters.processed_count == 50
        assert 1 <= consumer.settler.flushes < 50
        assert r.get_queue_attributes("work").msgs == 0


def test_ack_interval_0_acks_each_message_at_once(
    noop: list[Message], rsmq_on_test_redis: dict[str, Any]
) -> None:
    with override_settings(RSMQ=_with_consumer(rsmq_on_test_redis, ACK_INTERVAL=0)):
        _fill(2)
        consumer = Consumer(["work"], burst=True, verbosity=0)
        assert consumer.settler is None
        assert consumer.run() == 0
        assert consumer.counters.processed_count == 2
        assert get_rsmq().get_queue_attributes("work").msgs == 0


def test_keeper_hides_a_handled_message_until_its_ack_is_flushed(
    noop: list[Message], rsmq_on_test_redis: dict[str, Any]
) -> None:
    """vt 1 s (the work queue's), the ack held back 2 s: without the keeper the
    message would be visible again after 1 s; it must not be, nor count as processed."""
    with override_settings(RSMQ=_with_consumer(rsmq_on_test_redis, ACK_INTERVAL=2.0)):
        r = get_rsmq()
        mid = send("work", "x")
        consumer = Consumer(["work"], burst=True, verbosity=0)
        thread, codes = _run(consumer)
        wait_for(lambda: noop, timeout=10, what="the handler to run")
        handled_at = time.monotonic()
        assert consumer.settler is not None
        while consumer.settler.flushes == 0:
            assert r.receive("work") is None  # still hidden by the keeper
            if consumer.counters.processed_count == 0:  # processed only once acked
                assert consumer.keeper.held() == 1
            time.sleep(0.05)
        assert time.monotonic() - handled_at > 1.0  # it was held past its vt
        thread.join(10)
        assert codes == [0]
        assert consumer.counters.processed_count == 1
        assert r.get_queue_attributes("work").msgs == 0
        assert [m.id for m in noop] == [mid]


def test_warm_stop_flushes_every_pending_ack(
    noop: list[Message], rsmq_on_test_redis: dict[str, Any]
) -> None:
    with override_settings(RSMQ=_with_consumer(rsmq_on_test_redis, ACK_INTERVAL=30.0)):
        r = get_rsmq()
        _fill(5)
        consumer = Consumer(["work"], concurrency=2, verbosity=0)
        thread, codes = _run(consumer)
        assert consumer.settler is not None
        wait_for(lambda: consumer.settler.pending() == 5, timeout=10, what="5 pending acks")  # type: ignore[union-attr]
        assert consumer.counters.processed_count == 0
        consumer.request_stop()
        thread.join(15)
        assert codes == [0]
        assert consumer.counters.processed_count == 5
        assert r.get_queue_attributes("work").msgs == 0  # acked: none comes back


def test_cold_stop_leaves_pending_acks_to_redelivery(
    noop: list[Message], rsmq_on_test_redis: dict[str, Any]
) -> None:
    lines: list[str] = []
    with override_settings(RSMQ=_with_consumer(rsmq_on_test_redis, ACK_INTERVAL=30.0)):
        r = get_rsmq()
        ids = _fill(5)
        consumer = Consumer(["work"], concurrency=2, verbosity=1, write=lines.append)
        thread, codes = _run(consumer)
        assert consumer.settler is not None
        wait_for(lambda: consumer.settler.pending() == 5, timeout=10, what="5 pending acks")  # type: ignore[union-attr]
        consumer.request_stop()
        consumer.request_stop()
        thread.join(15)
        assert codes == [3]
        assert any("5 handled message(s) not acked yet" in line for line in lines), lines
        assert consumer.counters.processed_count == 0
        back: list[Message] = []
        wait_for(  # none lost: every one comes back, delivered a second time
            lambda: back.extend(r.receive_many("work", 10)) or len(back) >= 5,
            timeout=10,
            what="redelivery after vt",
        )
        assert sorted(m.id for m in back) == sorted(ids)
        assert {m.rc for m in back} == {2}


def test_a_stale_receipt_in_a_batch_is_lost_alone(
    noop: list[Message], rsmq_on_test_redis: dict[str, Any]
) -> None:
    """One message of a pending batch is redelivered elsewhere before the flush: its
    ack is refused (lost, not processed), the other one's applies."""
    with override_settings(RSMQ=_with_consumer(rsmq_on_test_redis, ACK_INTERVAL=30.0)):
        r = get_rsmq()
        stolen_id, _ = _fill(2)
        consumer = Consumer(["work"], concurrency=2, verbosity=0)
        thread, codes = _run(consumer)
        assert consumer.settler is not None
        wait_for(lambda: consumer.settler.pending() == 2, timeout=10, what="2 pending acks")  # type: ignore[union-attr]
        assert r.change_visibility("work", stolen_id, 0)  # by id, not fenced by our receipt
        other = r.receive("work")
        assert other is not None
        assert (other.id, other.rc) == (stolen_id, 2)
        consumer.request_stop()  # warm: flushes both acks in one call
        thread.join(15)
        assert codes == [0]
        assert consumer.settler.flushes == 1
        assert consumer.counters.processed_count == 1
        assert consumer.counters.snapshot()["current"] == []
        left = r.get_queue_attributes("work")
        assert left.msgs == 1  # the stolen one, still held by the other receiver
        r.ack(other)  # the other receiver's receipt is the live one


def test_more_pending_acks_than_one_ack_many_takes_are_flushed_in_chunks(
    rsmq_on_test_redis: dict[str, Any],
) -> None:
    """A settler starved of CPU can find more than BATCH_MAX acks pending at once: they
    go out in several ack_many calls, not as one refused call (every ack unsettled)."""
    from django_rsmq.consumer.processing import MessageProcessor, Result
    from django_rsmq.consumer.settle import Settler
    from django_rsmq.engine import BATCH_MAX

    with override_settings(RSMQ=rsmq_on_test_redis):
        r = get_rsmq()
        send("work", "first")  # creates the queue as configured
        n = BATCH_MAX + 500 - 1
        for start in range(0, n, BATCH_MAX):
            r.send_many("work", ["x"] * min(BATCH_MAX, n - start))
        n += 1
        messages = r.receive_many("work", BATCH_MAX) + r.receive_many("work", 500)
        assert len(messages) == n
        done: list[Result] = []
        settler = Settler(MessageProcessor([]), lambda settled: done.extend(r for _, r in settled))
        for m in messages:  # all pending before the settler's thread looks
            settler.ack(r, m, 0.0)
        settler.start()
        assert settler.close(timeout=30)
        assert settler.flushes == 2
        assert [d.status for d in done] == ["processed"] * n
        assert r.get_queue_attributes("work").msgs == 0


def test_one_worker_without_prefetch_handles_on_the_fetchers_thread(
    rsmq_on_test_redis: dict[str, Any],
) -> None:
    """--concurrency 1 --prefetch 0: no worker thread, no hand-off per message; a warm
    stop still lets the handler that runs finish and acks it."""
    threads: list[str] = []
    started, release = threading.Event(), threading.Event()

    def handler(message: Message) -> None:
        threads.append(threading.current_thread().name)
        if message.body == "slow":
            started.set()
            release.wait(10)

    registry.unregister("work")
    registry.register("work", handler)
    try:
        with override_settings(RSMQ=_with_consumer(rsmq_on_test_redis, ACK_INTERVAL=0)):
            _fill(3)
            send("work", "slow")
            consumer = Consumer(["work"], concurrency=1, prefetch=0, verbosity=0)
            thread, codes = _run(consumer)
            assert started.wait(10)
            assert consumer.inline
            assert consumer.workers == []
            consumer.request_stop()  # warm: the running handler finishes
            release.set()
            thread.join(15)
            assert codes == [0]
            assert consumer.counters.processed_count == 4
            assert get_rsmq().get_queue_attributes("work").msgs == 0
            assert len(threads) == 4
            assert all(t.startswith("rsmq-fetch") for t in threads)
    finally:
        registry.unregister("work")
        from tests.testapp import handlers

        registry.register("work", handlers.work.func)
