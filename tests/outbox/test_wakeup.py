"""The commit hook wakes the relay: a committed row is in Redis long before the next
poll; one publish per transaction, none for a rollback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings

from django_rsmq import outbox
from django_rsmq.engine.keys import Keys
from django_rsmq.outbox.relay import Relay
from tests.outbox.conftest import QUEUE, Box, wait_for


@pytest.fixture
def slow_poll(box: Box) -> Iterator[None]:
    """Polls and heartbeats 60 s apart: only a wake-up moves a row within a test."""
    rsmq = {
        **settings.RSMQ,
        "OUTBOX": {**settings.RSMQ["OUTBOX"], "POLL_INTERVAL": 60},
        "CONSUMER": {**settings.RSMQ["CONSUMER"], "HEARTBEAT_INTERVAL": 60},
    }
    with override_settings(RSMQ=rsmq):
        yield


def _subscribed(box: Box) -> bool:
    channel = Keys(box.namespace).outbox_wake(box.database)
    return dict(box.rsmq.client.pubsub_numsub(channel)).get(channel.encode(), 0) > 0


@pytest.mark.usefixtures("slow_poll")
def test_a_commit_wakes_the_relay(box: Box) -> None:
    relay = Relay(box.database)
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: _subscribed(box), what="the relay's subscription")
        time.sleep(0.1)  # past its first (empty) round
        for n in range(3):
            with transaction.atomic(using=box.database):
                outbox.send(QUEUE, {"n": n}, using=box.database)
            started = time.monotonic()
            wait_for(lambda n=n: box.msgs() == n + 1, timeout=10, what="the woken relay")
            assert time.monotonic() - started < 5  # the poll is 60 s away
    finally:
        relay.stop()
        thread.join(10)
    assert not thread.is_alive()  # a stop is not held up by the 60 s wait
    assert [b["n"] for b in box.bodies()] == [0, 1, 2]


def test_one_wakeup_per_transaction_and_none_for_a_rollback(box: Box) -> None:
    pubsub = box.rsmq.client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(Keys(box.namespace).outbox_wake(box.database))
    try:
        assert pubsub.get_message(timeout=1) is None  # the subscribe confirmation
        with transaction.atomic(using=box.database):
            outbox.send(QUEUE, 1, using=box.database)
            transaction.set_rollback(True, using=box.database)
        with transaction.atomic(using=box.database):
            for i in range(3):
                outbox.send(QUEUE, i, using=box.database)
        got = []
        while (m := pubsub.get_message(timeout=0.5)) is not None:
            got.append(m["data"])
    finally:
        pubsub.close()
    assert got == [box.database.encode()]


def test_a_failed_wakeup_is_logged_once_and_not_retried_for_a_while(
    box: Box, caplog: pytest.LogCaptureFixture
) -> None:
    from django_rsmq.outbox import wakeup

    down = {**settings.RSMQ, "CONNECTIONS": {"default": {"URL": "redis://127.0.0.1:1/0"}}}
    with override_settings(RSMQ=down), caplog.at_level("WARNING", "django_rsmq.outbox"):
        for i in range(3):
            with transaction.atomic(using=box.database):
                outbox.send(QUEUE, i, using=box.database)  # commits: no error raised here
        assert wakeup._failed_at is not None
    assert box.rows() == 3
    assert [r.getMessage()[:32] for r in caplog.records] == ["Outbox wake-up not published (Co"]
    assert wakeup._failed_at is None  # settings changed back: publish again at once


def test_after_a_failed_wakeup_none_is_tried_for_quiet_seconds(box: Box) -> None:
    from django_rsmq.outbox import wakeup

    pubsub = box.rsmq.client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(Keys(box.namespace).outbox_wake(box.database))
    try:
        assert pubsub.get_message(timeout=1) is None  # the subscribe confirmation
        wakeup._failed_at = time.monotonic()  # a publish just failed
        outbox.send(QUEUE, 1, using=box.database)
        assert pubsub.get_message(timeout=0.3) is None
        wakeup._failed_at = time.monotonic() - wakeup.QUIET  # long enough ago
        outbox.send(QUEUE, 2, using=box.database)
        assert pubsub.get_message(timeout=1) is not None
        assert wakeup._failed_at is None
    finally:
        wakeup._failed_at = None
        pubsub.close()
