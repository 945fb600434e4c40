"""The long-poll bookkeeping without Redis: barriers, reconnects, sleep planning."""

from __future__ import annotations

import pytest

from django_rsmq.engine.listener import Subscriptions
from django_rsmq.engine.longpoll import DUE_SLACK, sleep_for


def test_a_waiter_is_ready_once_the_barrier_after_its_subscribe_is_answered() -> None:
    subs = Subscriptions()
    a, b = object(), object()
    new, token = subs.join(a, ["c1", "c2"])
    assert new == ["c1", "c2"]
    assert token is not None
    assert not subs.ready(a)
    # b joins a channel whose SUBSCRIBE is still unanswered: it needs a's barrier too.
    assert subs.join(b, ["c1"]) == ([], None)
    assert not subs.ready(b)
    assert subs.answered(token)
    assert subs.ready(a)
    assert subs.ready(b)
    assert subs.published(b"c1") == {a, b}
    assert subs.published("c2") == {a}


def test_foreign_and_old_pongs_do_not_count() -> None:
    subs = Subscriptions()
    a = object()
    _, token = subs.join(a, ["c"])
    assert not subs.answered("redis-py-health-check")
    assert not subs.answered(b"django-rsmq:7:1")
    assert not subs.ready(a)
    assert token is not None
    assert subs.answered(token.encode())
    assert subs.ready(a)


def test_reconnect_needs_a_new_barrier_and_old_tokens_are_void() -> None:
    subs = Subscriptions()
    a = object()
    _, first = subs.join(a, ["c"])
    assert first is not None
    assert subs.answered(first)
    fresh = subs.reconnected()
    assert fresh is not None
    assert not subs.ready(a)
    assert not subs.answered(first)  # an answer from the old connection
    assert subs.answered(fresh)
    assert subs.ready(a)


def test_unwatched_channels_linger_until_they_expire() -> None:
    subs = Subscriptions()
    a, b = object(), object()
    _, token = subs.join(a, ["x", "y"])
    assert token is not None
    assert subs.answered(token)
    subs.join(b, ["y"])
    assert subs.leave(a, ["x", "y"], now=10.0) == ["x"]
    assert subs.leave(b, ["y"], now=11.0) == ["y"]
    assert subs.waiters() == []
    # Still subscribed: a reconnect re-confirms them, and nobody is woken by them.
    assert subs.published("x") == set()
    assert subs.expire(before=10.5) == ["x"]
    assert subs.expire(before=10.5) == []
    assert subs.reconnected() is not None  # "y" is still subscribed
    assert subs.expire(before=11.0) == ["y"]
    assert subs.reconnected() is None  # nothing to re-confirm


def test_rejoining_a_confirmed_lingering_channel_needs_no_round_trip() -> None:
    subs = Subscriptions()
    a, b = object(), object()
    _, first = subs.join(a, ["x"])
    assert first is not None
    assert subs.answered(first)
    subs.leave(a, ["x"], now=1.0)
    new, token = subs.join(b, ["x"])
    # Subscribed and confirmed in this epoch: neither SUBSCRIBE nor a PING barrier (the
    # waiter drains what the connection holds and looks at the queue next).
    assert new == []
    assert token is None
    assert subs.ready(b)
    assert subs.expire(before=2.0) == []  # watched again: it does not expire


def test_rejoining_an_unconfirmed_lingering_channel_waits_for_its_barrier() -> None:
    subs = Subscriptions()
    a, b = object(), object()
    _, first = subs.join(a, ["x"])
    assert first is not None
    subs.leave(a, ["x"], now=1.0)  # left before Redis confirmed the SUBSCRIBE
    new, token = subs.join(b, ["x"])
    assert (new, token) == ([], None)
    assert not subs.ready(b)
    assert subs.answered(first)
    assert subs.ready(b)


def test_rejoining_after_a_reconnect_waits_for_the_new_barrier() -> None:
    subs = Subscriptions()
    a, b = object(), object()
    _, first = subs.join(a, ["x"])
    assert first is not None
    assert subs.answered(first)
    subs.leave(a, ["x"], now=1.0)
    again = subs.reconnected()  # redis-py re-subscribed "x": unconfirmed until the barrier
    assert again is not None
    subs.join(b, ["x"])
    assert not subs.ready(b)
    assert subs.answered(again)
    assert subs.ready(b)


@pytest.mark.parametrize(
    ("remaining", "due_in", "trusted", "expected"),
    [
        (10.0, None, True, 10.0),  # realtime, nothing due: until the deadline
        (10.0, 2.0, True, 2.0 + DUE_SLACK),  # until the next message comes due
        (10.0, None, False, 0.5),  # nobody publishes: poll
        (0.2, 2.0, False, 0.2),  # the deadline first
        (-1.0, None, True, 0.0),
    ],
)
def test_sleep_for(remaining: float, due_in: float | None, trusted: bool, expected: float) -> None:
    assert sleep_for(remaining, due_in, trusted, 0.5) == pytest.approx(expected)
