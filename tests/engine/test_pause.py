"""Pausing a queue: our receives deliver nothing (sends go on), long polls wait and wake
on resume, the state is in Redis; both front ends."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from django_rsmq.engine import RSMQ, QueueNotFound

from .fronts import Background, wait_until
from .test_longpoll import QUICK, WAIT, channel, subscribed


def test_a_paused_queue_delivers_nothing_until_resumed(front: Any) -> None:
    front.create_queue("q")
    front.send("q", "before")
    assert front.pause_queue("q") is True
    assert front.pause_queue("q") is False  # paused already
    front.send("q", "during")  # producers still send
    attrs = front.get_queue_attributes("q")
    assert attrs.paused is True
    assert attrs.visible == 2
    assert front.receive("q") is None
    assert front.receive_many("q", 10) == []
    assert front.pop("q") is None
    assert front.resume_queue("q") is True
    assert front.resume_queue("q") is False
    assert front.get_queue_attributes("q").paused is False
    assert [m.body for m in front.receive_many("q", 10)] == ["before", "during"]


def test_a_long_poll_on_a_paused_queue_waits_and_wakes_on_resume(
    front: Any, redis_client: redis.Redis, namespace: str
) -> None:
    front.create_queue("q")
    front.send("q", "held")
    front.pause_queue("q")
    waiter = Background(lambda: front.receive("q", wait=WAIT))
    wait_until(subscribed(redis_client, channel(namespace, "q")))
    waiter.thread.join(0.3)
    assert waiter.thread.is_alive(), "a paused queue's message was delivered"
    RSMQ(redis_client, namespace=namespace).resume_queue("q")  # another client resumes
    msg = waiter.result()
    assert msg is not None
    assert msg.body == "held"
    assert waiter.elapsed < 0.3 + QUICK


def test_pause_is_per_queue_and_unknown_queues_raise(front: Any) -> None:
    front.create_queue("a")
    front.create_queue("b")
    front.send("a", "1")
    front.send("b", "2")
    front.pause_queue("a")
    assert front.receive("a") is None
    msg = front.receive("b")
    assert msg is not None
    assert msg.body == "2"
    with pytest.raises(QueueNotFound):
        front.pause_queue("nope")
    with pytest.raises(QueueNotFound):
        front.resume_queue("nope")


def test_the_pause_is_one_field_peers_ignore(rsmq: RSMQ, raw: redis.Redis, namespace: str) -> None:
    rsmq.create_queue("q")
    rsmq.pause_queue("q")
    assert raw.hget(f"{namespace}:q:Q", "ext:paused") == "1"
    rsmq.resume_queue("q")
    assert raw.hget(f"{namespace}:q:Q", "ext:paused") is None
