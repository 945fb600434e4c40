"""The fast path for script calls: EVALSHA packed by us, sent on connections we keep clean.

redis-py's ``execute_command`` costs more client time per call than our whole
operation: the pool's ``get_connection`` polls the socket (``can_read``, a system call)
to make sure a connection it hands out has no stale reply pending, the generic packer
encodes each argument, and the observability hooks run around every command. For the
engine's hot path (one script call per operation) that doubled the time of a send.

:class:`FastPath` borrows connections from the client's own pool (so TLS, AUTH, the
database, RESP2/RESP3, timeouts and Sentinel discovery are the pool's, unchanged) and
keeps them in a private free list between calls. A connection goes back to that list
only after its replies were read in full, so it is known to be clean and needs no poll;
on any error it is disconnected and handed back to the pool instead. The command bytes
come from :meth:`Call.command <django_rsmq.engine.protocol.Call.command>`.

The caller falls back to ``execute_command`` on a connection error (the client's retry
policy then applies, as before) and to ``EVAL`` on ``NOSCRIPT``. At most a quarter of
the pool's ``max_connections`` (and at most 64) stay kept while idle, so the pool's
other users (a cache sharing the client, say) keep the rest. Clients that are not a
plain :class:`redis.Redis` over a connection pool (cluster clients, single-connection
clients, client-side caching, pools of fewer than 4 connections, a subclass that
overrides ``execute_command`` or an ``execute_command`` wrapped by instrumentation such
as a tracer) use
``execute_command`` only: :func:`fast_path_for` returns ``None`` for them.
"""

from __future__ import annotations

import inspect
import os
import weakref
from collections import deque
from collections.abc import Sequence
from typing import Any

import redis
from redis.exceptions import ResponseError

__all__ = ["FastPath", "fast_path_for"]

# At most this share of a pool's max_connections is kept idle by one FastPath; the rest
# stays available to the pool's other users (a cache sharing the client, say).
KEEP_SHARE = 4


def fast_path_for(client: Any) -> FastPath | None:
    """A :class:`FastPath` over ``client``'s pool, or ``None`` when it must not be used."""
    if not isinstance(client, redis.Redis) or getattr(client, "connection", None) is not None:
        return None  # not a pooled redis.Redis (e.g. single_connection_client=True)
    run = type(client).execute_command
    if run is not redis.Redis.execute_command or hasattr(run, "__wrapped__"):
        return None  # overridden or instrumented (tracing): its hook must see every call
    pool = getattr(client, "connection_pool", None)
    if pool is None or getattr(pool, "cache", None) is not None:
        return None  # client-side caching wraps connections: leave them to redis-py
    keep = _keep(pool)
    if keep < 1:
        return None  # a pool this small has no connection to spare for us
    return FastPath(pool, keep)


def _keep(pool: Any) -> int:
    limit = getattr(pool, "max_connections", None)
    return 64 if not isinstance(limit, int) else min(64, limit // KEEP_SHARE)


def _legacy_get_connection(pool: Any) -> bool:
    """redis-py < 5.3 needs a command name for ``get_connection``; newer ones warn on it."""
    params = inspect.signature(pool.get_connection).parameters
    first = next(iter(params.values()), None)
    return (
        first is not None
        and first.name == "command_name"
        and first.default is inspect.Parameter.empty
    )


class FastPath:
    """Clean connections borrowed from one redis-py connection pool (thread-safe)."""

    def __init__(self, pool: Any, keep: int = 1) -> None:
        self.pool = pool
        self.keep = keep  # idle connections kept at most; more go back to the pool
        self._legacy = _legacy_get_connection(pool)
        self._free: deque[Any] = deque()
        self._pid = os.getpid()
        # Connections kept here count as in use for the pool: give them back when this
        # FastPath is dropped without close() (an RSMQ made per request, say).
        self._finalizer = weakref.finalize(self, _release, pool, self._free, self._pid)

    def _take(self) -> Any:
        if self._pid != os.getpid():  # a forked child must not use its parent's sockets
            self._free.clear()  # the pool resets itself in the child: nothing to release
            self._pid = os.getpid()
        try:
            return self._fresh(self._free.pop())
        except IndexError:
            if self._legacy:
                return self.pool.get_connection("EVALSHA")
            return self.pool.get_connection()

    @staticmethod
    def _fresh(conn: Any) -> Any:
        """A kept connection, made current: one opened before its master changed
        (``is_stale()``, see engine/sentinel.py) is closed, and a closed one is opened
        with the connection class's own ``connect()`` (Sentinel discovery for a
        Sentinel-managed one), not redis-py's lazy reconnect to the stored address."""
        stale = getattr(conn, "is_stale", None)
        if callable(stale) and stale():
            conn.disconnect()  # kept here, so no other thread is using it
        if getattr(conn, "_sock", True) is None:
            conn.connect()
        return conn

    def _put(self, conn: Any) -> None:
        """Keep a clean connection (or give it back if enough are kept already)."""
        if len(self._free) < self.keep:
            self._free.append(conn)
        else:
            self.pool.release(conn)

    def _drop(self, conn: Any) -> None:
        """An error left ``conn`` in an unknown state: close it, give it back to the pool."""
        conn.disconnect()
        self.pool.release(conn)

    def execute(self, command: bytes) -> Any:
        """Send one packed command, return its reply (an error reply is raised)."""
        conn = self._take()
        try:
            conn.send_packed_command((command,))
            reply = conn.read_response(disable_decoding=True)
        except ResponseError:
            self._put(conn)  # the error reply was read in full: still clean
            raise
        except BaseException:
            self._drop(conn)
            raise
        self._put(conn)
        return reply

    def execute_many(self, commands: Sequence[bytes]) -> list[Any]:
        """Send several packed commands at once; their replies in order, an error reply
        as its exception instance (like ``pipeline.execute(raise_on_error=False)``)."""
        conn = self._take()
        replies: list[Any] = []
        try:
            conn.send_packed_command((b"".join(commands),))
            for _ in commands:
                try:
                    replies.append(conn.read_response(disable_decoding=True))
                except ResponseError as error:
                    replies.append(error)
        except BaseException:
            self._drop(conn)
            raise
        self._put(conn)
        return replies

    def close(self) -> None:
        """Give every kept connection back to the pool (they stay connected there)."""
        _release(self.pool, self._free, self._pid)


def _release(pool: Any, free: deque[Any], pid: int) -> None:
    while free:
        try:
            conn = free.pop()
        except IndexError:  # another thread took the last one
            break
        if pid == os.getpid():
            pool.release(conn)
