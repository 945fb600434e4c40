from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.test import override_settings

from django_rsmq import DeadLetter, Discard, Retry, Snooze, inline, send, send_on_commit, signals
from django_rsmq.connections import get_rsmq
from django_rsmq.engine import InvalidName, InvalidValue, QueueNotFound, Receipt, ids
from django_rsmq.handlers import registry
from django_rsmq.testing import drain, eager


class Catch:
    def __init__(self, *sigs: Any) -> None:
        self.sigs = sigs
        self.got: list[tuple[str, dict[str, Any]]] = []

    def __enter__(self) -> Catch:
        for s in self.sigs:
            s.connect(self.receive)
        return self

    def __exit__(self, *exc: object) -> None:
        for s in self.sigs:
            s.disconnect(self.receive)

    def receive(self, signal: Any, sender: str, **kwargs: Any) -> None:
        name = next(n for n in dir(signals) if getattr(signals, n) is signal)
        self.got.append((name, {"sender": sender, **kwargs}))

    def names(self) -> list[str]:
        return [n for n, _ in self.got]


def test_send_creates_the_declared_queue_and_sends_message_sent() -> None:
    with Catch(signals.message_sent) as caught:
        mid = send("work", {"a": 1}, delay=0)
    attrs = get_rsmq().get_queue_attributes("work")
    assert (attrs.vt, attrs.msgs) == (1, 1)  # VISIBILITY_TIMEOUT 1 from settings
    ((name, kw),) = caught.got
    assert (name, kw["sender"], kw["message_id"], kw["body"]) == (
        "message_sent",
        "work",
        mid,
        {"a": 1},
    )


def test_send_validates_before_touching_redis(rsmq_on_test_redis: dict[str, Any]) -> None:
    with pytest.raises(InvalidName):
        send("bad name", "x")
    with pytest.raises(InvalidValue):
        send("work", "x", delay=-1)
    no_auto = {**rsmq_on_test_redis, "QUEUES": {"manual": {"AUTO_CREATE": False}}}
    with override_settings(RSMQ=no_auto), pytest.raises(QueueNotFound):
        send("manual", "x")


@pytest.mark.django_db(transaction=True)
def test_send_on_commit_sends_only_after_commit_and_never_on_rollback() -> None:
    r = get_rsmq()
    r.create_queue("work", vt=1)
    with transaction.atomic():
        send_on_commit("work", "committed")
        assert r.get_queue_attributes("work").msgs == 0
    assert r.get_queue_attributes("work").msgs == 1

    def rolled_back() -> None:
        with transaction.atomic():
            send_on_commit("work", "rolled back")
            raise RuntimeError("rollback")

    with pytest.raises(RuntimeError):
        rolled_back()
    assert [m.body for m in r.peek("work")] == ["committed"]
    send_on_commit("work", "no transaction")  # autocommit: sent at once
    assert r.get_queue_attributes("work").msgs == 2


def test_eager_mode_runs_the_handler_inline_with_signals() -> None:
    calls: list[Any] = []
    registry.register("eager-q", lambda m: calls.append((m.queue, m.body, m.rc)))
    try:
        with (
            eager(),
            Catch(
                signals.message_sent, signals.message_received, signals.message_processed
            ) as caught,
        ):
            mid = send("eager-q", {"x": 1})
        assert calls == [("eager-q", {"x": 1}, 1)]
        assert caught.names() == ["message_sent", "message_received", "message_processed"]
        assert len(mid) == 32
        assert "eager-q" not in get_rsmq().list_queues()  # nothing went to Redis
    finally:
        registry.unregister("eager-q")


def test_eager_mode_propagates_the_handler_exception() -> None:
    with eager(), Catch(signals.message_failed) as caught, pytest.raises(ValueError):
        send("flaky", "x")
    ((_, kw),) = caught.got
    assert (kw["will_retry"], type(kw["exception"])) == (False, ValueError)


def test_drain_handles_every_visible_message_like_the_consumer() -> None:
    for i in range(3):
        send("work", {"n": i})
    send("work", {"fail": "yes"})
    with Catch(signals.message_processed, signals.message_failed) as caught:
        result = drain("work")
    assert (result.processed, result.failed) == (3, 1)
    assert isinstance(result.errors[0], RuntimeError)
    assert caught.names().count("message_processed") == 3
    attrs = get_rsmq().get_queue_attributes("work")
    assert (attrs.msgs, attrs.visible) == (1, 0)  # the failed one waits 30 s (RETRY [30])


def test_drain_follows_retries_to_the_dead_letter_queue() -> None:
    send("flaky", "boom")  # MAX_RECEIVES 3, RETRY [0]
    with Catch(signals.message_dead_lettered) as caught:
        result = drain("flaky")
    assert (result.failed, result.dead_lettered) == (2, 1)
    assert caught.got[0][1]["dead_letter_queue"] == "flaky-dlq"
    r = get_rsmq()
    assert [m.raw for m in r.peek("flaky-dlq")] == ["boom"]


def test_send_with_dedup_id_sends_once_within_the_window() -> None:
    first = send("work", {"order": 7}, dedup_id="order-7")
    again = send("work", {"order": 7}, dedup_id="order-7")
    assert first == again
    assert get_rsmq().get_queue_attributes("work").msgs == 1


def test_drain_runs_async_handlers() -> None:
    send("awork", {"sleep": 0})
    result = drain("awork")
    assert (result.processed, result.failed) == (1, 0)
    assert get_rsmq().get_queue_attributes("awork").msgs == 0


def test_eager_mode_builds_the_message_with_the_engines_id_and_receipt() -> None:
    seen: list[Any] = []
    registry.register("eager-q", seen.append)
    try:
        with eager():
            mid = send("eager-q", {"x": 1})
    finally:
        registry.unregister("eager-q")
    (m,) = seen
    assert (m.id, m.rc, m.fr) == (mid, 1, int(m.sent))
    assert m.sent == ids.sent_ms(mid)
    assert abs(m.sent - time.time() * 1000) < 60_000
    assert Receipt.parse(m.receipt) == Receipt("eager-q", mid, 1)


def test_eager_mode_without_the_app_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inline, "_deliver_inline", None)  # AppConfig.ready never ran
    with eager(), pytest.raises(ImproperlyConfigured, match="INSTALLED_APPS"):
        send("eager-q", "x")


def test_eager_mode_drops_a_discarded_message_and_raises_the_other_outcomes() -> None:
    with eager(), Catch(signals.message_failed) as caught:
        send("outcomes", {"do": "discard"})  # not raised: the handler asked for the drop
        with pytest.raises(DeadLetter):
            send("outcomes", {"do": "dead"})
        with pytest.raises(Retry):
            send("outcomes", {"do": "retry", "delay": 1})
    assert [(type(kw["exception"]), kw["will_retry"]) for _, kw in caught.got] == [
        (Discard, False),
        (DeadLetter, False),
        (Retry, False),
    ]
    with eager(), Catch(signals.message_failed) as caught, pytest.raises(Snooze):
        send("outcomes", {"do": "snooze", "delay": 1})  # nothing comes back in eager mode
    assert caught.got == []


def test_drain_counts_snoozed_and_discarded_messages() -> None:
    send("outcomes", {"do": "snooze", "delay": 0, "on": [1]})  # handled on its 2nd receive
    send("outcomes", {"do": "discard"})
    result = drain("outcomes")
    assert (result.processed, result.snoozed, result.discarded, result.failed) == (1, 1, 1, 0)
    assert get_rsmq().get_queue_attributes("outcomes").msgs == 0


def test_an_outcome_with_a_bad_delay_is_refused_where_it_is_made() -> None:
    with pytest.raises(InvalidValue):
        Retry(delay=-1)
    with pytest.raises(InvalidValue):
        Snooze(delay=float("nan"))
    assert str(Retry(delay=2)) == "retry in 2s"
    assert str(Discard()) == "discarded by its handler"
