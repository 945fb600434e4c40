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

Errors say how far a command got (engine/runner.py decides what to retry): an error
raised while taking, connecting or writing to a connection means the command never
reached Redis in full (a single command whose write failed was not received whole, so
Redis did not run it); an error while reading the reply is raised as
:class:`Unanswered`: the command may have run. A kept connection is polled before use
(one ``poll`` system call) so one the server or the network closed while it sat idle
is replaced before anything is written to it, not discovered while reading. At most a quarter of
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
import select
import weakref
from collections import deque
from collections.abc import Sequence
from typing import Any

import redis
from redis.exceptions import ConnectionError, ResponseError, TimeoutError

from .errors import WriteRefused

__all__ = ["FastPath", "Unanswered", "fast_path_for", "socket_quiet"]

# What a read of a reply that never comes raises (a cut connection, a socket timeout).
LINK_ERRORS = (ConnectionError, TimeoutError, OSError)


class Unanswered(Exception):
    """The command was written to Redis but its reply was not read in full: it may have
    run. ``replies`` holds the replies read before the error (of a pipelined batch, in
    order), ``error`` the connection error. Deliberately not a ``ConnectionError``: no
    retry policy must replay it blindly."""

    def __init__(self, error: BaseException, replies: list[Any] | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.replies = replies or []


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

    def _kept(self) -> Any:
        """A kept connection that still looks open, or None."""
        if self._pid != os.getpid():  # a forked child must not use its parent's sockets
            self._free.clear()  # the pool resets itself in the child: nothing to release
            self._pid = os.getpid()
        while True:
            try:
                conn = self._free.pop()
            except IndexError:
                return None
            if _idle_and_open(conn):
                return conn
            self._drop(conn)  # closed by the server or the network while kept

    def _fresh(self) -> Any:
        """A connection from the pool (which checks it, and connects it if need be)."""
        if self._legacy:
            return self.pool.get_connection("EVALSHA")
        return self.pool.get_connection()

    def _send(self, data: bytes, commands: int = 1) -> Any:
        """A connection that ``data`` (``commands`` packed commands) was written to in
        full. Errors while connecting, and a failed write of one command (not received
        whole, so not run), are raised as they are; when a kept connection fails that
        write (it died after the poll) the command goes to a fresh connection instead,
        once. A failed write of several commands raises :class:`Unanswered`: the first
        ones may have arrived whole."""
        conn = self._kept()
        if conn is not None:
            try:
                conn.send_packed_command((data,))
                return conn
            except LINK_ERRORS as error:
                self._drop(conn)
                if commands > 1:
                    raise Unanswered(error) from error
            except BaseException:
                self._drop(conn)
                raise
        conn = self._fresh()
        try:
            conn.send_packed_command((data,))
        except LINK_ERRORS as error:
            self._drop(conn)
            if commands > 1:
                raise Unanswered(error) from error
            raise
        except BaseException:
            self._drop(conn)
            raise
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
        """Send one packed command, return its reply (an error reply is raised).

        A connection error before the command was written in full is raised as is (it
        did not run); one while reading its reply as :class:`Unanswered`."""
        conn = self._send(command)
        try:
            reply = conn.read_response(disable_decoding=True)
        except WriteRefused:  # READONLY & co. (engine/sentinel.py): it did not run
            self._drop(conn)  # read in full, but its server is no master: reconnect
            raise
        except ResponseError:
            self._put(conn)  # the error reply was read in full: still clean
            raise
        except LINK_ERRORS as error:
            self._drop(conn)
            raise Unanswered(error) from error
        except BaseException:
            self._drop(conn)
            raise
        self._put(conn)
        return reply

    def execute_many(self, commands: Sequence[bytes]) -> list[Any]:
        """Send several packed commands at once; their replies in order, an error reply
        as its exception instance (like ``pipeline.execute(raise_on_error=False)``).

        As :meth:`execute`, except that a failed write of several commands raises
        :class:`Unanswered` too: the commands written before the failure may have run."""
        replies: list[Any] = []
        refused = False
        conn = self._send(b"".join(commands), len(commands))
        try:
            for _ in commands:
                try:
                    replies.append(conn.read_response(disable_decoding=True))
                except WriteRefused as error:  # that command did not run
                    replies.append(error)
                    refused = True
                except ResponseError as error:
                    replies.append(error)
        except LINK_ERRORS as error:
            self._drop(conn)
            raise Unanswered(error, replies) from error
        except BaseException:
            self._drop(conn)
            raise
        if refused:
            self._drop(conn)  # its server is no master: reconnect
        else:
            self._put(conn)
        return replies

    def close(self) -> None:
        """Give every kept connection back to the pool (they stay connected there)."""
        _release(self.pool, self._free, self._pid)


def _idle_and_open(conn: Any) -> bool:
    """Whether a kept connection still looks usable: connected, nothing to read."""
    return socket_quiet(getattr(conn, "_sock", None))


def socket_quiet(sock: Any) -> bool:
    """Whether the socket of a clean connection (no reply pending) is open with nothing
    to read. Readable means the peer closed it (or sent something unexpected): either
    way it must not carry a command. One system call; asks the kernel, so it also sees
    a close an event loop has not processed yet."""
    if sock is None:
        return False
    try:
        if _poll is None:  # pragma: no cover - platforms without poll()
            return not select.select([sock], [], [], 0)[0]
        poller = _poll()
        poller.register(sock, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


_poll = getattr(select, "poll", None)


def _release(pool: Any, free: deque[Any], pid: int) -> None:
    while free:
        try:
            conn = free.pop()
        except IndexError:  # another thread took the last one
            break
        if pid == os.getpid():
            pool.release(conn)
