"""The asyncio side of following a Sentinel master (see :mod:`django_rsmq.engine.sentinel`).

The :class:`~django_rsmq.engine.sentinel.MasterWatch` is the same (threads that listen
to the sentinels, a generation counter); the connections are redis-py's asyncio ones:
a connection made before the latest master change reconnects, through Sentinel
discovery, when it is next used; while a failover announced itself, commands wait
(``await``, not blocking the loop); READONLY/NOREPLICAS/LOADING raise
:class:`~django_rsmq.engine.errors.WriteRefused` and the engine retries once.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import redis.asyncio
from redis.asyncio.connection import Connection, SSLConnection
from redis.asyncio.sentinel import SentinelConnectionPool, SentinelManagedConnection
from redis.exceptions import BusyLoadingError, ResponseError

from ..errors import WriteRefused
from ..sentinel import MasterWatch, _refusal

__all__ = ["AsyncFollowingConnection", "AsyncFollowingPool", "aretry_refused", "sentinel_master"]

T = TypeVar("T")


async def _unfenced(watch: MasterWatch) -> None:
    if watch._pid != os.getpid() or watch._fenced_until > time.monotonic():
        await asyncio.to_thread(watch.before_command)  # starts it, or waits the fence


class AsyncFollowingConnection(SentinelManagedConnection):
    generation = -1

    def __init__(self, **kwargs: Any) -> None:
        self.master_watch: MasterWatch = kwargs.pop("master_watch")
        super().__init__(**kwargs)  # type: ignore[no-untyped-call,unused-ignore]

    async def connect_to(self, address: tuple[str, int]) -> None:
        self.generation = self.master_watch.generation
        await super().connect_to(address)  # type: ignore[no-untyped-call,unused-ignore]

    def is_stale(self) -> bool:
        return self.is_connected and self.generation != self.master_watch.generation

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        await _unfenced(self.master_watch)
        if self.is_stale():
            await self.disconnect()  # ours while we send
        if not self.is_connected:
            await self.connect()  # type: ignore[no-untyped-call]  # via Sentinel discovery
        await super().send_packed_command(command, check_health)

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await Connection.read_response(self, *args, **kwargs)
        except (ResponseError, BusyLoadingError) as error:
            code = _refusal(error)
            if code is None:
                raise
            await self.disconnect()
            await asyncio.to_thread(self.master_watch.check_now)
            raise WriteRefused(code, str(error)) from error


class AsyncFollowingSSLConnection(AsyncFollowingConnection, SSLConnection):
    pass


class AsyncFollowingPool(SentinelConnectionPool):
    def __init__(self, service_name: str, sentinel_manager: Any, **kwargs: Any) -> None:
        watch = kwargs.pop("master_watch")
        ssl = kwargs.pop("ssl", False)
        kwargs["connection_class"] = (
            AsyncFollowingSSLConnection if ssl else AsyncFollowingConnection
        )
        kwargs["is_master"] = True
        super().__init__(service_name, sentinel_manager, **kwargs)  # type: ignore[no-untyped-call,unused-ignore]
        self.master_watch: MasterWatch = watch
        self.connection_kwargs["master_watch"] = watch

    async def get_master_address(self) -> tuple[str, int]:
        watch = self.master_watch
        if watch.address is None:
            return await asyncio.to_thread(watch.master_address)
        return watch.master_address()

    async def release(self, connection: Any) -> None:
        if getattr(connection, "is_stale", lambda: False)():
            await connection.disconnect()
        await super().release(connection)


async def aretry_refused(run: Callable[[], Awaitable[T]]) -> T:
    """``await run()``, once more if it was refused before it ran."""
    try:
        return await run()
    except WriteRefused:
        return await run()


def sentinel_master(
    sentinels: Sequence[tuple[str, int]],
    service: str,
    *,
    sentinel_kwargs: dict[str, Any] | None = None,
    master_kwargs: dict[str, Any] | None = None,
    **connection_kwargs: Any,
) -> redis.asyncio.Redis:
    """An asyncio client for ``service``'s master that follows failovers.

    The sentinels are watched by threads with sync connections (one
    :class:`MasterWatch`); the master's connections are asyncio ones.
    """
    from redis.asyncio.sentinel import Sentinel as AsyncSentinel
    from redis.sentinel import Sentinel

    sync_manager = Sentinel(  # type: ignore[no-untyped-call,unused-ignore]
        list(sentinels), sentinel_kwargs=sentinel_kwargs, **connection_kwargs
    )
    watch = MasterWatch(sync_manager, service)
    manager = AsyncSentinel(  # type: ignore[no-untyped-call,unused-ignore]
        list(sentinels), sentinel_kwargs=sentinel_kwargs, **connection_kwargs
    )
    client: redis.asyncio.Redis = manager.master_for(
        service,
        connection_pool_class=AsyncFollowingPool,
        master_watch=watch,
        **(master_kwargs or {}),
    )
    return client
