"""Writing to the outbox: rows commit and roll back with the caller's transaction."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings

from django_rsmq import outbox
from django_rsmq.engine.errors import SerializationError
from django_rsmq.handlers import registry
from django_rsmq.outbox.model import OutboxMessage
from django_rsmq.outbox.relay import Relay
from django_rsmq.producer import send
from tests.outbox.conftest import QUEUE, Box


def test_rollback_sends_nothing(box: Box) -> None:
    with transaction.atomic(using=box.database):
        outbox.send(QUEUE, {"n": 1}, using=box.database)
        transaction.set_rollback(True, using=box.database)
    assert box.rows() == 0
    assert Relay(box.database).drain() == 0
    assert box.msgs() == 0


def test_commit_sends_exactly_one_message_with_body_and_delay(box: Box) -> None:
    with transaction.atomic(using=box.database):
        outbox.send(QUEUE, {"n": 1}, delay=30, using=box.database)
        outbox.send(QUEUE, "plain", using=box.database)
    assert box.rows() == 2
    relay = Relay(box.database)
    assert relay.drain() == 2
    assert relay.drain() == 0
    assert box.rows() == 0
    attrs = box.rsmq.get_queue_attributes(QUEUE)
    assert (attrs.msgs, attrs.visible, attrs.delayed) == (2, 1, 1)
    assert [m.body for m in box.rsmq.pop_many(QUEUE, 10)] == ["plain"]
    [delayed] = box.rsmq.peek(QUEUE)
    assert delayed.body == {"n": 1}
    assert 29_000 < delayed.visible_at - delayed.sent <= 30_000


def test_an_unserializable_body_fails_in_the_caller(box: Box) -> None:
    with pytest.raises(SerializationError), transaction.atomic(using=box.database):
        outbox.send(QUEUE, {"when": object()}, using=box.database)
    assert box.rows() == 0


def test_a_queue_with_outbox_true_goes_through_it_inside_atomic_only(box: Box) -> None:
    with transaction.atomic(using=box.database):
        send(QUEUE, {"n": 1}, using=box.database)
        assert box.msgs() == 0  # not in Redis before the commit
    assert box.rows() == 1
    send(QUEUE, {"n": 2}, using=box.database)  # no transaction: sent at once
    assert box.msgs() == 1
    with transaction.atomic(using=box.database):
        send("work", {"n": 3}, using=box.database, transactional=True)
        send("work", {"n": 4}, using=box.database)  # no OUTBOX on "work": at once
    assert box.rows() == 2
    assert box.msgs("work") == 1


def test_a_row_keeps_the_callers_dedup_id(box: Box) -> None:
    with transaction.atomic(using=box.database):
        did = outbox.send(QUEUE, "a", dedup_id="order-1", using=box.database)
        outbox.send(QUEUE, "b", dedup_id="order-1", using=box.database)
    assert did == "order-1"
    assert Relay(box.database).drain() == 2
    assert box.bodies() == ["a"]  # the second is a duplicate within the window


def test_eager_runs_the_handler_on_commit_only(box: Box) -> None:
    seen: list[object] = []
    registry.register("eager-obx", lambda message: seen.append(message.body))
    with override_settings(RSMQ={**_current(), "EAGER": True}):
        with transaction.atomic(using=box.database):
            outbox.send("eager-obx", {"n": 1}, using=box.database)
            transaction.set_rollback(True, using=box.database)
        assert seen == []
        with transaction.atomic(using=box.database):
            outbox.send("eager-obx", {"n": 2}, using=box.database)
            assert seen == []
        assert seen == [{"n": 2}]
    registry.unregister("eager-obx")
    assert OutboxMessage.objects.using(box.database).count() == 0


def _current() -> dict[str, object]:
    from django.conf import settings

    return dict(settings.RSMQ)


def test_rows_that_cannot_be_sent_stay_with_their_error_and_the_rest_go(box: Box) -> None:
    rsmq = {
        **_current(),
        "QUEUES": {
            **_current()["QUEUES"],  # type: ignore[dict-item]
            "small": {"MAX_SIZE": 1024},
            "absent": {"AUTO_CREATE": False},
        },
    }
    with override_settings(RSMQ=rsmq):
        with transaction.atomic(using=box.database):
            outbox.send("small", "x" * 2000, using=box.database)  # longer than MAX_SIZE
            outbox.send("small", "fits", using=box.database)
            outbox.send("absent", "nowhere", using=box.database)  # no queue, no AUTO_CREATE
            outbox.send(QUEUE, "fine", using=box.database)
        relay = Relay(box.database)
        assert relay.relay_once() == 2
        assert relay.relay_once() == 0  # the two left fail again
        left = OutboxMessage.objects.using(box.database).order_by("id")
        assert [(r.queue, r.attempts) for r in left] == [("small", 2), ("absent", 2)]
        assert left[0].error.startswith("MessageTooLong: ")
        assert "absent" in left[1].error
    assert box.bodies() == ["fine"]
    assert box.bodies("small") == ["fits"]


def test_on_sqlite_one_relay_holds_the_lease_the_other_stands_by(box: Box) -> None:
    if box.database != "outbox_sqlite":
        pytest.skip("PostgreSQL shares rows with SKIP LOCKED (test_relay.py), no lease")
    with transaction.atomic(using=box.database):
        for i in range(3):
            outbox.send(QUEUE, i, using=box.database)
    a, b = Relay(box.database, batch_size=1), Relay(box.database, batch_size=1)
    assert a.relay_once() == 1  # a takes the lease
    assert b.relay_once() == 0  # rows wait, b stands by
    assert box.rows() == 2
    assert a.drain() == 2  # and gives the lease back when done
    with transaction.atomic(using=box.database):
        outbox.send(QUEUE, 3, using=box.database)
    assert b.relay_once() == 1
    assert box.bodies() == ["0", "1", "2", "3"]  # the auto serializer: JSON numbers as text
