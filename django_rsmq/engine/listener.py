"""One pub/sub connection per RSMQ, shared by every long poll of its threads.

:class:`Subscriptions` is the bookkeeping shared by the sync :class:`Listener` (read
by its waiting threads) and the asyncio one (read by a task): which waiter watches
which realtime channel, and whether Redis has confirmed the subscriptions a waiter
relies on. Confirmation uses barriers: after a SUBSCRIBE we send ``PING <token>`` on
the same connection; Redis answers in order, so the token's ``pong`` proves every
earlier SUBSCRIBE is active. After a reconnect (redis-py re-subscribes in
``on_connect``) a new barrier is sent and every waiter is woken to look again, so
nothing published while the connection was down is missed.

A channel nobody watches any more stays subscribed for a grace period (``LINGER``),
so a consumer that long-polls again soon needs no round trip at all on the pub/sub
connection: no UNSUBSCRIBE/SUBSCRIBE, and no ``PING`` barrier either (the channel's
subscription was confirmed in this connection's epoch and has been active since; a
reconnect starts a new epoch). A janitor unsubscribes it once it has been unwatched
for ``LINGER`` (at most about twice that). Notifications published while it was
unwatched are still in the connection's buffer: the next waiter reads them as a
wake-up, looks at the queue, finds nothing new and sleeps again (a spurious wake-up
costs a look; a barrier on every rejoin would cost a round trip on every long poll).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import redis
from redis.client import PubSub

__all__ = ["Listener", "Subscriptions", "Watch"]

TOKEN_PREFIX = "django-rsmq:"
# A reading waiter hands over at least this often (so a newly due waiter can take over).
READ_TIMEOUT = 5.0
RETRY_BACKOFF = (0.05, 0.2, 1.0, 2.0)
# An unwatched channel stays subscribed this long (up to twice: the janitor's period).
LINGER = 0.5
# A reader on a connection that follows a Sentinel master looks this often whether the
# master changed (it then reconnects to the new one, where notifications now come from).
STALE_CHECK = 0.5
# A waiter about to look at its queues reads at most this many buffered messages first.
DRAIN_MAX = 1000


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class Subscriptions:
    """Channel → waiters, and barrier tokens (no I/O, no locking: callers lock)."""

    def __init__(self) -> None:
        self.channels: dict[str, set[Any]] = {}
        self.idle: dict[str, float] = {}  # subscribed, unwatched channel -> since when
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
            else:
                # Still subscribed (watched, or lingering): no round trip. A waiter
                # needs the barrier after the latest SUBSCRIBE (``last``), which a
                # lingering channel's confirmation already passed in this epoch.
                self.idle.pop(channel, None)
            watchers.add(waiter)
        token = self._barrier() if new else None
        self.needs[waiter] = (self.epoch, self.last)
        return new, token

    def leave(self, waiter: Any, channels: Iterable[str], now: float) -> list[str]:
        """Unregister ``waiter``; returns the channels nobody watches any more (they
        stay subscribed, idle since ``now``, until :meth:`expire`)."""
        self.needs.pop(waiter, None)
        unwatched = []
        for channel in channels:
            watchers = self.channels.get(channel)
            if watchers is not None and waiter in watchers:
                watchers.discard(waiter)
                if not watchers:
                    self.idle[channel] = now
                    unwatched.append(channel)
        return unwatched

    def expire(self, before: float) -> list[str]:
        """Forget the channels unwatched since ``before`` or earlier; returns them (to
        UNSUBSCRIBE)."""
        gone = [channel for channel, since in self.idle.items() if since <= before]
        for channel in gone:
            del self.idle[channel]
            del self.channels[channel]
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
    """One waiter's view of the listener: its channels and whether it was woken."""

    def __init__(self, listener: Listener, channels: tuple[str, ...]) -> None:
        self.listener = listener
        self.channels = channels
        self.woken = False  # guarded by listener.cond

    def ready(self, timeout: float) -> bool:
        """Wait (at most ``timeout``) until Redis confirmed our subscriptions.

        Wake-ups so far are dropped: the caller looks at the queue next, which covers
        everything published until now (e.g. notifications read before the barrier).
        """
        ok = self.listener._await(lambda: self.listener.subs.ready(self), timeout)
        if ok:
            self.listener._drain()
        with self.listener.cond:
            self.woken = False
        return ok

    def wait(self, timeout: float) -> bool:
        """Wait for a publish (or one since the last wait); returns whether our
        subscriptions are confirmed now."""
        self.listener._await(lambda: self.woken, timeout)
        with self.listener.cond:
            self.woken = False
            return self.listener.subs.ready(self)

    def close(self) -> None:
        self.listener._leave(self)


class Listener:
    """The pub/sub connection of one sync RSMQ, read by the waiters themselves.

    No thread of its own: whichever waiter finds nobody reading becomes the reader
    (leader/followers) until it is woken or its time is up, then hands over. A woken
    reader goes straight on to its receive, without a thread switch in between.
    """

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.pid = os.getpid()
        self.cond = threading.Condition(threading.RLock())
        self.subs = Subscriptions()
        self.pubsub: _PubSub | None = None
        self.reading = False
        self.failures = 0
        self.retry_at = 0.0
        self.closed = False
        self.janitor: threading.Thread | None = None
        self.stop = threading.Event()

    def watch(self, channels: tuple[str, ...]) -> Watch:
        watch = Watch(self, channels)
        with self.cond:
            if self.closed:
                raise RuntimeError("this RSMQ was closed")
            new, token = self.subs.join(watch, channels)
            try:
                if token is not None:
                    self._start_janitor()
                    pubsub = self._pubsub()
                    if new:
                        pubsub.subscribe(*new)
                    pubsub.ping(token)
            except BaseException:
                self.subs.leave(watch, channels, time.monotonic())
                raise
        return watch

    def _start_janitor(self) -> None:
        if self.janitor is None:
            self.janitor = threading.Thread(
                target=self._janitor, name="django-rsmq-listener-janitor", daemon=True
            )
            self.janitor.start()

    def _janitor(self) -> None:
        """Every ``LINGER`` seconds: unsubscribe channels unwatched for ``LINGER``;
        ends when nothing is subscribed (or on close, or in a forked child)."""
        while not self.stop.wait(LINGER):
            with self.cond:
                if self.closed or os.getpid() != self.pid:
                    return
                gone = self.subs.expire(time.monotonic() - LINGER)
                if gone and self.pubsub is not None:
                    # A failed UNSUBSCRIBE only costs wake-ups nobody waits for.
                    with contextlib.suppress(redis.RedisError):
                        self.pubsub.unsubscribe(*gone)  # type: ignore[no-untyped-call]
                if not self.subs.channels:
                    self.janitor = None
                    return

    def _pubsub(self) -> _PubSub:
        if self.pubsub is None:
            pool = self.client.connection_pool
            self.pubsub = _PubSub(self, connection_pool=pool, ignore_subscribe_messages=True)
        return self.pubsub

    def _await(self, done: Callable[[], bool], timeout: float) -> bool:
        """Until ``done()`` or ``timeout``: read the connection if nobody else does,
        else wait to be notified by whoever does."""
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            with self.cond:
                while True:
                    if done():
                        return True
                    now = time.monotonic()
                    remaining = deadline - now
                    if remaining <= 0:
                        return False
                    if not self.reading and not self.closed and now >= self.retry_at:
                        pubsub = self.pubsub
                        if pubsub is not None:
                            self.reading = True
                            break
                    pause = remaining if self.closed else min(remaining, self.retry_at - now)
                    self.cond.wait(pause if pause > 0 else remaining)
            try:
                self._read(pubsub, min(remaining, READ_TIMEOUT))
            finally:
                with self.cond:
                    self.reading = False
                    self.cond.notify_all()

    def _drain(self) -> None:
        """Read what the connection already holds (no waiting), if nobody else reads:
        notifications published before a waiter's look must not wake it later."""
        with self.cond:
            pubsub = self.pubsub
            if self.reading or self.closed or pubsub is None:
                return  # whoever reads consumes them (a wake-up at worst costs a look)
            self.reading = True
        try:
            for _ in range(DRAIN_MAX):
                if not self._read(pubsub, 0.0):
                    break
        finally:
            with self.cond:
                self.reading = False
                self.cond.notify_all()

    def _read(self, pubsub: _PubSub, timeout: float) -> bool:
        """Read one message (at most ``timeout``); returns whether there was one."""
        conn: Any = pubsub.connection
        check = getattr(conn, "is_stale", None)
        if callable(check):  # a connection that follows a Sentinel master
            timeout = min(timeout, STALE_CHECK)
            with self.cond:
                if check():  # the master changed: reconnect (and re-subscribe) there
                    conn.disconnect()
        try:
            message = pubsub.get_message(timeout=timeout)
        except Exception:  # connection lost: everyone looks again; retry reading later
            with self.cond:
                self.subs.reconnected()  # unconfirmed until redis-py reconnects
                self.retry_at = (
                    time.monotonic() + RETRY_BACKOFF[min(self.failures, len(RETRY_BACKOFF) - 1)]
                )
                self.failures += 1
                self._wake_all()
            return False
        if message is None:
            return False
        kind = message["type"]
        with self.cond:
            self.failures = 0
            if kind == "message":
                for watch in self.subs.published(message["channel"]):
                    watch.woken = True
            elif kind == "pong":
                self.subs.answered(message["data"])
        return True

    def _leave(self, watch: Watch) -> None:
        # No UNSUBSCRIBE here (it would sit in the latency path): the janitor does it.
        with self.cond:
            self.subs.leave(watch, watch.channels, time.monotonic())

    def _reconnected(self, pubsub: _PubSub) -> None:
        with self.cond:
            token = self.subs.reconnected()
            if token is not None:
                pubsub.ping(token)
            self._wake_all()

    def _wake_all(self) -> None:
        for watch in self.subs.waiters():
            watch.woken = True
        self.cond.notify_all()

    def close(self) -> None:
        """Drop the pub/sub connection; waiting calls look again, then poll."""
        self.stop.set()
        with self.cond:
            self.closed = True
            self.subs.reconnected()  # nobody is confirmed any more
            self._wake_all()
            pubsub, self.pubsub = self.pubsub, None
        if pubsub is not None:
            pubsub.close()
