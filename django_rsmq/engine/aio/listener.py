"""The asyncio twin of :class:`django_rsmq.engine.listener.Listener`.

Same bookkeeping (:class:`~django_rsmq.engine.listener.Subscriptions`), one pub/sub
connection per AsyncRSMQ and event loop. Commands to the pub/sub connection go
through one sender task in the order they were decided, so a cancelled waiter's
UNSUBSCRIBE can never overtake a newer SUBSCRIBE of the same channel. Unwatched
channels linger (``LINGER``) like the sync listener's; a janitor task unsubscribes them.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import redis.asyncio
from redis.asyncio.client import PubSub

from .. import listener as sync_listener
from ..listener import RETRY_BACKOFF, Subscriptions

__all__ = ["AsyncListener", "AsyncWatch"]


class _PubSub(PubSub):
    def __init__(self, listener: AsyncListener, **kwargs: Any) -> None:
        self._listener = listener
        super().__init__(**kwargs)

    async def on_connect(self, connection: Any) -> None:
        await super().on_connect(connection)
        self._listener._reconnected()


async def _until(event: asyncio.Event, timeout: float) -> None:
    """Wait for ``event`` at most ``timeout`` seconds. (Not ``asyncio.wait_for``: on
    Python 3.11 it swallows a cancellation that coincides with the event being set.)"""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(timeout, 0.0)):
            await event.wait()


class AsyncWatch:
    def __init__(self, listener: AsyncListener, channels: tuple[str, ...]) -> None:
        self.listener = listener
        self.channels = channels
        self.event = asyncio.Event()
        self.confirmed = asyncio.Event()

    async def ready(self, timeout: float) -> bool:
        """Wait (at most ``timeout``) until Redis confirmed our subscriptions (wake-ups
        so far are dropped: the caller looks at the queue next)."""
        if not self.listener.subs.ready(self):
            await _until(self.confirmed, timeout)
        self.event.clear()
        return self.listener.subs.ready(self)

    async def wait(self, timeout: float) -> bool:
        """Wait for a publish (or one since the last wait); returns whether ready now."""
        await _until(self.event, timeout)
        self.event.clear()
        return self.listener.subs.ready(self)

    def close(self) -> None:
        self.listener._leave(self)


class AsyncListener:
    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.client = client
        self.loop = asyncio.get_running_loop()
        self.subs = Subscriptions()
        self.pubsub = _PubSub(
            self, connection_pool=client.connection_pool, ignore_subscribe_messages=True
        )
        self.outbox: asyncio.Queue[tuple[str, ...] | None] = asyncio.Queue()
        self.sender: asyncio.Task[None] | None = None
        self.reader: asyncio.Task[None] | None = None
        self.janitor: asyncio.Task[None] | None = None
        self.closed = False

    def watch(self, channels: tuple[str, ...]) -> AsyncWatch:
        if self.closed:
            raise RuntimeError("this AsyncRSMQ was closed")
        watch = AsyncWatch(self, channels)
        new, token = self.subs.join(watch, channels)
        if new:
            self.outbox.put_nowait(("SUBSCRIBE", *new))
        if token is not None:
            self.outbox.put_nowait(("PING", token))
            if self.janitor is None:
                self.janitor = asyncio.ensure_future(self._expire())
        if self.sender is None:
            self.sender = asyncio.ensure_future(self._send())
        return watch

    def _leave(self, watch: AsyncWatch) -> None:
        self.subs.leave(watch, watch.channels, self.loop.time())

    async def _expire(self) -> None:
        """Every ``LINGER`` seconds: unsubscribe channels unwatched for ``LINGER``."""
        while not self.closed:
            linger = sync_listener.LINGER
            await asyncio.sleep(linger)
            gone = self.subs.expire(self.loop.time() - linger)
            if gone and not self.closed:
                self.outbox.put_nowait(("UNSUBSCRIBE", *gone))
            if not self.subs.channels:
                break
        self.janitor = None

    def _reconnected(self) -> None:
        token = self.subs.reconnected()
        if token is not None:
            self.outbox.put_nowait(("PING", token))
        self._wake_all()

    def _wake_all(self) -> None:
        for watch in self.subs.waiters():
            watch.event.set()
            if not self.subs.ready(watch):
                watch.confirmed.clear()

    async def _send(self) -> None:
        while True:
            item = await self.outbox.get()
            if item is None:  # aclose(); redis-py may swallow a cancellation mid-command
                return
            command, *args = item
            try:
                if command == "SUBSCRIBE":
                    await self.pubsub.subscribe(*args)
                    if self.reader is None:  # now there is a connection to read
                        self.reader = asyncio.ensure_future(self._read())
                elif command == "UNSUBSCRIBE":
                    await self.pubsub.unsubscribe(*args)
                else:
                    await self.pubsub.ping(args[0])
            except Exception:
                # Waiters stay unconfirmed and fall back to polling; a reconnect
                # re-subscribes and sends a new barrier.
                self._wake_all()

    def _stopped(self) -> bool:
        return self.closed

    async def _read(self) -> None:
        failures = 0
        while not self._stopped():
            try:
                conn: Any = self.pubsub.connection
                stale: Any = getattr(conn, "is_stale", None)
                follows = callable(stale)  # a connection that follows a Sentinel master
                if follows and stale():  # the master changed: reconnect, re-subscribe there
                    await conn.disconnect()
                timeout = sync_listener.STALE_CHECK if follows else None
                message = await self.pubsub.get_message(timeout=timeout)
            except (redis.RedisError, OSError, RuntimeError):
                if self._stopped():
                    return
                self._wake_all()
                await asyncio.sleep(RETRY_BACKOFF[min(failures, len(RETRY_BACKOFF) - 1)])
                failures += 1
                continue
            failures = 0
            if message is None:
                continue
            kind = message["type"]
            if kind == "message":
                for watch in self.subs.published(message["channel"]):
                    watch.event.set()
            elif kind == "pong" and self.subs.answered(message["data"]):
                for watch in self.subs.waiters():
                    if self.subs.ready(watch):
                        watch.confirmed.set()

    async def aclose(self) -> None:
        self.closed = True
        self._wake_all()
        self.outbox.put_nowait(None)
        sender, reader, janitor = self.sender, self.reader, self.janitor
        self.sender = self.reader = self.janitor = None
        if janitor is not None:
            janitor.cancel()
        if sender is not None:  # let it send what was decided (UNSUBSCRIBEs) first
            await asyncio.wait([sender], timeout=1.0)
        if reader is not None:
            reader.cancel()
        await self.pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]
        if reader is not None:
            await asyncio.wait([reader], timeout=1.0)
