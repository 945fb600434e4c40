"""One pub/sub connection per RSMQ, shared by every long poll of its threads.

:class:`Subscriptions` is the bookkeeping shared by the sync :class:`Listener`
(a reader thread) and the asyncio one (a reader task): which waiter watches which
realtime channel, and whether Redis has confirmed the subscriptions a waiter relies
on. Confirmation uses barriers: after a SUBSCRIBE we send ``PING <token>`` on the
same connection; Redis answers in order, so the token's ``pong`` proves every
earlier SUBSCRIBE is active. After a reconnect (redis-py re-subscribes in
``on_connect``) a new barrier is sent and every waiter is woken to look again, so
nothing published while the connection was down is missed.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable
from typing import Any

import redis
from redis.client import PubSub

__all__ = ["Listener", "Subscriptions", "Watch"]

TOKEN_PREFIX = "django-rsmq:"
# How often the reader thread checks whether it should stop while nothing arrives.
READ_TIMEOUT = 5.0
RETRY_BACKOFF = (0.05, 0.2, 1.0, 2.0)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class Subscriptions:
    """Channel → waiters, and barrier tokens (no I/O, no locking: callers lock)."""

    def __init__(self) -> None:
        self.channels: dict[str, set[Any]] = {}
        self.needs: dict[Any, tuple[int, int]] = {}
        self.epoch = 0  # +1 per reconnect: tokens of an older connection never count
        self.sent = 0  # barriers sent on this connection
        self.done = 0  # highest barrier answered
        self.last = 0  # barrier that follows the latest SUBSCRIBE

    def _barrier(self) -> str:
        self.sent += 1
        self.last = self.sent
        return f"{TOKEN_PREFIX}{self.epoch}:{self.sent}"

    def join(self, waiter: Any, channels: Iterable[str]) -> tuple[list[str], str | None]:
        """Register ``waiter``; returns the channels to SUBSCRIBE and the barrier to PING."""
        new: list[str] = []
        for channel in channels:
            watchers = self.channels.get(channel)
            if watchers is None:
                watchers = self.channels[channel] = set()
                new.append(channel)
            watchers.add(waiter)
        token = self._barrier() if new else None
        self.needs[waiter] = (self.epoch, self.last)
        return new, token

    def leave(self, waiter: Any, channels: Iterable[str]) -> list[str]:
        """Unregister ``waiter``; returns the channels nobody watches any more."""
        self.needs.pop(waiter, None)
        gone = []
        for channel in channels:
            watchers = self.channels.get(channel)
            if watchers is not None:
                watchers.discard(waiter)
                if not watchers:
                    del self.channels[channel]
                    gone.append(channel)
        return gone

    def ready(self, waiter: Any) -> bool:
        epoch, need = self.needs.get(waiter, (-1, 0))
        return epoch == self.epoch and self.done >= need

    def answered(self, data: Any) -> bool:
        """A ``pong``: True if it was one of our barriers (waiters may be ready now)."""
        text = _text(data)
        if not text.startswith(TOKEN_PREFIX):
            return False
        epoch, _, n = text[len(TOKEN_PREFIX) :].partition(":")
        if epoch != str(self.epoch) or not n.isdigit():
            return False
        self.done = max(self.done, int(n))
        return True

    def published(self, channel: Any) -> set[Any]:
        """The waiters to wake for a message on ``channel``."""
        return self.channels.get(_text(channel), set())

    def reconnected(self) -> str | None:
        """A new connection (already re-subscribed by redis-py): a new barrier for all."""
        self.epoch += 1
        self.sent = self.done = self.last = 0
        token = self._barrier() if self.channels else None
        for waiter in self.needs:
            self.needs[waiter] = (self.epoch, self.last)
        return token

    def waiters(self) -> list[Any]:
        return list(self.needs)


class _PubSub(PubSub):
    """redis-py's PubSub, telling the listener when it reconnected."""

    def __init__(self, listener: Listener, **kwargs: Any) -> None:
        self._listener = listener
        super().__init__(**kwargs)

    def on_connect(self, connection: Any) -> None:
        super().on_connect(connection)
        self._listener._reconnected(self)


class Watch:
    """One waiter's view of the listener: its channels and its wake-up event."""

    def __init__(self, listener: Listener, channels: tuple[str, ...]) -> None:
        self.listener = listener
        self.channels = channels
        self.event = threading.Event()

    def ready(self, timeout: float) -> bool:
        """Wait (at most ``timeout``) until Redis confirmed our subscriptions."""
        with self.listener.cond:
            return self.listener.cond.wait_for(
                lambda: self.listener.subs.ready(self), max(timeout, 0.0)
            )

    def wait(self, timeout: float) -> bool:
        """Wait for a publish (or one since the last wait); returns :meth:`ready` now."""
        self.event.wait(max(timeout, 0.0))
        self.event.clear()
        with self.listener.cond:
            return self.listener.subs.ready(self)

    def close(self) -> None:
        self.listener._leave(self)


class Listener:
    """The pub/sub connection of one sync RSMQ and the daemon thread that reads it."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.pid = os.getpid()
        self.cond = threading.Condition(threading.RLock())
        self.subs = Subscriptions()
        self.pubsub: _PubSub | None = None
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()

    def watch(self, channels: tuple[str, ...]) -> Watch:
        watch = Watch(self, channels)
        with self.cond:
            if self.stopping.is_set():
                raise RuntimeError("this RSMQ was closed")
            new, token = self.subs.join(watch, channels)
            try:
                if new:
                    pubsub = self._pubsub()
                    pubsub.subscribe(*new)
                    pubsub.ping(token)
            except BaseException:
                self.subs.leave(watch, channels)
                raise
            self._start()
        return watch

    def _pubsub(self) -> _PubSub:
        if self.pubsub is None:
            pool = self.client.connection_pool
            self.pubsub = _PubSub(self, connection_pool=pool, ignore_subscribe_messages=True)
        return self.pubsub

    def _start(self) -> None:
        if self.thread is None and self.pubsub is not None:
            self.thread = threading.Thread(
                target=self._read, name="django-rsmq-listener", daemon=True
            )
            self.thread.start()

    def _leave(self, watch: Watch) -> None:
        with self.cond:
            gone = self.subs.leave(watch, watch.channels)
            if gone and self.pubsub is not None and not self.stopping.is_set():
                # A failed UNSUBSCRIBE only costs wake-ups nobody waits for.
                with contextlib.suppress(redis.RedisError):
                    self.pubsub.unsubscribe(*gone)  # type: ignore[no-untyped-call]

    def _reconnected(self, pubsub: _PubSub) -> None:
        with self.cond:
            token = self.subs.reconnected()
            if token is not None:
                pubsub.ping(token)
            self._wake_all()

    def _wake_all(self) -> None:
        for watch in self.subs.waiters():
            watch.event.set()
        self.cond.notify_all()

    def _read(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            pubsub = self.pubsub
            if pubsub is None:
                break
            try:
                message = pubsub.get_message(timeout=READ_TIMEOUT)
            except Exception:  # connection lost: wake everyone to look again, retry later
                with self.cond:
                    self._wake_all()
                self.stopping.wait(RETRY_BACKOFF[min(failures, len(RETRY_BACKOFF) - 1)])
                failures += 1
                continue
            failures = 0
            if message is None:
                continue
            kind = message["type"]
            with self.cond:
                if kind == "message":
                    for watch in self.subs.published(message["channel"]):
                        watch.event.set()
                elif kind == "pong" and self.subs.answered(message["data"]):
                    self.cond.notify_all()

    def close(self) -> None:
        """Stop the reader thread and drop the pub/sub connection."""
        with self.cond:
            self.stopping.set()
            self._wake_all()
            pubsub, self.pubsub = self.pubsub, None
        self.thread = None
        if pubsub is not None:
            pubsub.close()  # the daemon reader sees ``stopping`` within READ_TIMEOUT
