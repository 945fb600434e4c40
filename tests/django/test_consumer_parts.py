"""Consumer pieces in-process: the message processor, warm-stop release, retry delays."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import override_settings

from django_rsmq import send
from django_rsmq.connections import get_rsmq
from django_rsmq.consumer import Consumer, Counters, MessageProcessor
from django_rsmq.consumer import processing as processing_mod
from django_rsmq.consumer.worker import ConsumerError
from django_rsmq.engine import Message
from django_rsmq.handlers import Handler, registry
from django_rsmq.testing import TestRedis
from tests.settings import rsmq_setting


def test_close_old_connections_runs_around_every_handler_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(processing_mod, "close_old_connections", lambda: calls.append("close"))

    def ok(message: Message) -> None:
        calls.append("handler")

    def boom(message: Message) -> None:
        calls.append("handler")
        raise RuntimeError("x")

    send("work", "a")
    send("work", "b")
    r = get_rsmq()
    processor = MessageProcessor([], manage_db_connections=True)
    first = processor.handle(r.receive("work"), Handler("work", ok), r)  # type: ignore[arg-type]
    second = processor.handle(r.receive("work"), Handler("work", boom), r)  # type: ignore[arg-type]
    assert (first.status, second.status) == ("processed", "failed")
    assert calls == ["close", "handler", "close"] * 2


def test_undecodable_body_is_a_failure_not_a_crash(rsmq_on_test_redis: dict[str, Any]) -> None:
    from django.test import override_settings

    qs = {**rsmq_on_test_redis["QUEUES"], "strict": {"SERIALIZER": "json"}}
    with override_settings(RSMQ={**rsmq_on_test_redis, "QUEUES": qs}):
        r = get_rsmq()
        r.create_queue("strict")
        r.send("strict", "not json", serializer="text")
        counters = Counters()
        ran: list[Message] = []
        message = r.receive("strict", serializer="json")
        assert message is not None
        result = MessageProcessor([counters]).handle(message, Handler("strict", ran.append), r)
        assert result.status == "failed"
        assert ran == []
        assert type(result.exception).__name__ == "BodyDecodeError"
        assert counters.failed_count == 1


def test_warm_stop_returns_unstarted_prefetched_messages_at_once() -> None:
    mid = send("work", "waiting")
    consumer = Consumer(["work"], verbosity=0)
    consumer.setup()
    r = get_rsmq()
    message = r.receive("work", vt=30)
    assert message is not None
    consumer._deliver(r, message, time.monotonic())  # prefetched, no worker took it
    assert consumer._shutdown("test") == 0
    again = r.receive("work")
    assert again is not None
    assert (again.id, again.rc) == (mid, 2)


def test_exclude_drops_queues_from_the_selection() -> None:
    every = Consumer(verbosity=0).resolve_queues()
    assert "work" in every
    assert Consumer(exclude=["work"], verbosity=0).resolve_queues() == [
        q for q in every if q != "work"
    ]
    assert Consumer(["work", "flaky"], exclude=["flaky"], verbosity=0).resolve_queues() == ["work"]


def test_exclude_of_an_unselected_queue_or_of_everything_is_a_config_error() -> None:
    with pytest.raises(ConsumerError, match="would not be consumed anyway: wrok") as e:
        Consumer(["work"], exclude=["wrok"], verbosity=0).resolve_queues()
    assert e.value.exit_code == 2
    with pytest.raises(ConsumerError, match="all excluded"):
        Consumer(["work"], exclude=["work"], verbosity=0).resolve_queues()
    assert Consumer(["work"], exclude=["work"], verbosity=0).run() == 2


def test_nothing_to_consume_says_where_handlers_are_found(
    rsmq_on_test_redis: dict[str, Any],
) -> None:
    # Declared queues, none with a handler (a new project's app not in INSTALLED_APPS).
    only_emails = {**rsmq_on_test_redis, "QUEUES": {"emails": {}}}
    with (
        override_settings(RSMQ=only_emails),
        pytest.raises(ConsumerError, match="Nothing to consume") as e,
    ):
        Consumer([], verbosity=0).resolve_queues()
    assert "handlers.py" in str(e.value)
    assert "INSTALLED_APPS" in str(e.value)


def test_consumer_refuses_queues_without_handlers() -> None:
    assert registry.get("nobody") is None
    assert Consumer(["nobody"], verbosity=0).run() == 2


def test_consumes_across_connections_with_prefetch_bounded_by_free_workers(
    rsmq_on_test_redis: dict[str, Any], namespace: str
) -> None:
    from django.test import override_settings

    url = rsmq_on_test_redis["CONNECTIONS"]["default"]["URL"]
    setting = {
        **rsmq_on_test_redis,
        "CONNECTIONS": {"default": {"URL": url}, "second": {"URL": url}},
        "QUEUES": {**rsmq_on_test_redis["QUEUES"], "elsewhere": {"CONNECTION": "second"}},
        # No prefetch and acks made at once: what is in flight is what a worker holds.
        "CONSUMER": {**rsmq_on_test_redis["CONSUMER"], "ACK_INTERVAL": 0},
    }
    seen: list[tuple[str, int]] = []

    def note(message: Message) -> None:
        r = get_rsmq("default")
        held = sum(r.get_queue_attributes(q).in_flight for q in ("work", "elsewhere"))
        seen.append((message.queue, held))

    registry.register("elsewhere", note)
    try:
        with override_settings(RSMQ=setting):
            assert get_rsmq("second") is not get_rsmq("default")
            for i in range(3):
                send("elsewhere", {"n": i})
            send("work", "w")
            registry.unregister("work")
            registry.register("work", note)
            consumer = Consumer(["work", "elsewhere"], burst=True, verbosity=0, prefetch=0)
            assert consumer.run() == 0
            assert {f.rsmq.client for f in consumer.fetchers} == {
                get_rsmq("default").client,
                get_rsmq("second").client,
            }
    finally:
        registry.unregister("elsewhere")
        registry.unregister("work")
        from tests.testapp import handlers

        registry.register("work", handlers.work.func)
    assert sorted(q for q, _ in seen) == ["elsewhere"] * 3 + ["work"]
    assert max(held for _, held in seen) == 1  # concurrency 1, prefetch 0: one held


def test_consumer_sends_its_signals_in_order() -> None:
    from django_rsmq import signals

    got: list[tuple[str, Any]] = []
    names = [
        "consumer_started",
        "message_received",
        "message_processed",
        "message_failed",
        "consumer_stopping",
        "consumer_stopped",
    ]
    receivers = {}
    for name in names:

        def receiver(sender: Any, _name: str = name, **kwargs: Any) -> None:
            got.append((_name, kwargs.get("exit_code", sender)))

        receivers[name] = receiver
        getattr(signals, name).connect(receiver)
    try:
        send("work", {})
        send("flaky", "x")  # fails 3 times, then the DLQ
        assert Consumer(["work", "flaky"], burst=True, verbosity=0).run() == 0
    finally:
        for name, receiver in receivers.items():
            getattr(signals, name).disconnect(receiver)
    order = [n for n, _ in got]
    assert order[0] == "consumer_started"
    assert order[-2:] == ["consumer_stopping", "consumer_stopped"]
    assert got[-1][1] == 0  # exit_code
    assert sorted(order[1:-2]) == sorted(
        ["message_received", "message_processed"] + ["message_received", "message_failed"] * 3
    )
    senders = {(n, s) for n, s in got if n.startswith("message_")}  # sender = queue name
    assert senders == {
        ("message_received", "work"),
        ("message_processed", "work"),
        ("message_received", "flaky"),
        ("message_failed", "flaky"),
    }


@pytest.mark.parametrize("concurrency", [1, 4])
def test_burst_waits_for_retries_its_own_failures_made_visible(concurrency: int) -> None:
    # "flaky" fails every delivery and retries at once (RETRY [0]) up to MAX_RECEIVES 3.
    # While its handler runs, free workers keep the fetcher looking (and finding the
    # queues empty); --burst must still wait for the retry the failure makes visible,
    # until the message is dead-lettered.
    from django_rsmq import signals

    def slow_handler(sender: str, **kwargs: Any) -> None:
        if sender == "flaky":
            time.sleep(0.05)

    send("work", {})
    send("flaky", {})
    signals.message_received.connect(slow_handler)
    try:
        consumer = Consumer(["work", "flaky"], burst=True, concurrency=concurrency, verbosity=0)
        assert consumer.run() == 0
    finally:
        signals.message_received.disconnect(slow_handler)
    rsmq = get_rsmq()
    assert rsmq.get_queue_attributes("flaky").msgs == 0
    assert rsmq.get_queue_attributes("flaky-dlq").msgs == 1


def test_burst_does_not_poll_redis_while_handlers_run(own_redis: TestRedis, namespace: str) -> None:
    # --burst looks without waiting; with free workers and an empty queue it must wait
    # for a running handler to settle instead of asking Redis again and again. A private
    # server: commandstats counts every client's calls, and threads other tests left
    # behind would add theirs.
    from django_rsmq import signals

    def slow_handler(sender: str, **kwargs: Any) -> None:
        time.sleep(0.6)

    with override_settings(RSMQ=rsmq_setting(own_redis.url, namespace)):
        send("work", {})
        client = get_rsmq().client

        def script_calls() -> int:
            stats = client.info("commandstats")
            return sum(
                int(v["calls"])
                for k, v in stats.items()
                if k in ("cmdstat_evalsha", "cmdstat_eval")
            )

        before = script_calls()
        signals.message_received.connect(slow_handler)
        try:
            consumer = Consumer(["work"], burst=True, concurrency=4, verbosity=0)
            assert consumer.run() == 0
        finally:
            signals.message_received.disconnect(slow_handler)
        assert consumer.counters.total == 1
        # A busy loop makes thousands of receive calls in 0.6 s; a waiting one a handful.
        assert script_calls() - before < 40
