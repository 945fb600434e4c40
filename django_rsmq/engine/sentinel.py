"""Following a Sentinel-managed master: a generation counter, a write fence, refusals.

redis-py asks Sentinel for the master only when a connection is opened, so connections
already open (in the pool, kept by the fast path, the long-poll listener's) keep
writing to the old master after a failover. During a planned failover (``SENTINEL
FAILOVER``) or a partition the old master still accepts those writes for seconds (it is
demoted about 10 s after the switch) and throws them away when it resyncs: acknowledged
sends lost, no error anywhere.

:class:`MasterWatch` follows one service:

- it subscribes to every sentinel (one thread each, reconnecting with backoff) for
  ``+try-failover`` … ``+switch-master`` / ``-failover-abort-*`` / ``+failover-end``,
  and asks ``discover_master`` every ``check_interval`` seconds as a safety net (a
  missed event, every sentinel unreachable for a while);
- from ``+try-failover`` (published ~0.2 s before the replica is promoted) until the
  switch (or an abort, or ``fence_timeout``) new commands wait: nothing is written to a
  master that is about to be replaced. A command already sent when the fence goes up is
  the only one that can still reach the old master;
- on a new master it increments :attr:`MasterWatch.generation`. Each
  :class:`FollowingConnection` remembers the generation it connected in and, when it is
  next *used* (by the thread that holds it), reconnects through Sentinel discovery if it
  is older. No socket is closed under another thread's feet.

:class:`FollowingConnection` also turns ``READONLY`` / ``NOREPLICAS`` / ``LOADING``
replies (alone or inside a script error) into :class:`~django_rsmq.engine.errors.WriteRefused`
after asking Sentinel for the master again: the server refused the command before it
ran (in a script, at its first write; the engine's scripts write nothing before), so the
engine retries it once (:func:`retry_refused`).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from redis.connection import Connection, SSLConnection
from redis.exceptions import BusyLoadingError, ReadOnlyError, ResponseError
from redis.sentinel import SentinelConnectionPool, SentinelManagedConnection

from .errors import WriteRefused

__all__ = [
    "FollowingConnection",
    "FollowingPool",
    "MasterWatch",
    "is_stale",
    "retry_refused",
    "sentinel_master",
]

T = TypeVar("T")

CHECK_INTERVAL = 1.0  # discover_master at least this often (the safety net)
FENCE_TIMEOUT = 5.0  # longest wait for a failover that announced itself to finish
BACKOFF = (0.1, 0.5, 1.0, 2.0)
# Events of the failover state machine, in the order Sentinel publishes them.
FENCE_EVENTS = ("+try-failover", "+elected-leader", "+failover-state-select-slave")
UNFENCE_EVENTS = ("+failover-end", "-failover-abort-")
REFUSALS = ("READONLY", "NOREPLICAS", "LOADING")


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class MasterWatch:
    """The master of one Sentinel service, followed by events and periodic checks."""

    def __init__(
        self,
        sentinel: Any,
        service: str,
        *,
        check_interval: float = CHECK_INTERVAL,
        fence_timeout: float = FENCE_TIMEOUT,
    ) -> None:
        self.sentinel = sentinel  # a redis.sentinel.Sentinel
        self.service = service
        self.check_interval = check_interval
        self.fence_timeout = fence_timeout
        self.generation = 0
        self.address: tuple[str, int] | None = None
        self.epoch = -1  # config epoch of self.address (as far as we know)
        self.switches = 0  # master changes seen (for tests and logs)
        self._cond = threading.Condition()
        self._fenced_until = 0.0
        self._pid = -1
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- used by connections -------------------------------------------------------------
    def before_command(self) -> None:
        """Called before a command is sent: start following (again, after a fork), and
        wait while a failover that announced itself is under way (bounded)."""
        if self._pid != os.getpid():
            self.start()
        if self._fenced_until <= time.monotonic():
            return
        with self._cond:
            while True:
                remaining = self._fenced_until - time.monotonic()
                if remaining <= 0:
                    return
                self._cond.wait(remaining)

    def check_now(self) -> None:
        """Ask Sentinel for the master now (after a refusal); never raises."""
        self.fence_lifted()
        self.discover()

    def discover(self) -> None:
        """Ask every sentinel; the answer with the highest config epoch wins."""
        best: tuple[int, tuple[str, int]] | None = None
        for client in self.sentinel.sentinels:
            try:
                state = client.sentinel_master(self.service)
            except (redis.RedisError, OSError):
                continue
            if not state or not self.sentinel.check_master_state(state, self.service):
                continue
            if "failover_in_progress" in str(state.get("flags", "")):
                continue  # its leader names the old master until the failover ends
            epoch = int(state.get("config-epoch", 0))
            if best is None or epoch > best[0]:
                best = (epoch, (str(state["ip"]), int(state["port"])))
        if best is not None:
            self.found(best[1], best[0])

    def master_address(self) -> tuple[str, int]:
        """Where connections connect: the followed master (discovered if unknown)."""
        if self.address is None:
            self.discover()
        if self.address is None:
            from redis.sentinel import MasterNotFoundError

            raise MasterNotFoundError(f"No master found for {self.service!r}")
        return self.address

    # -- state changes -------------------------------------------------------------------
    def found(self, address: tuple[str, int], epoch: int | None = None) -> None:
        """``address`` is the master now (``epoch``: the config epoch a sentinel gave
        with it; ``None`` from a ``+switch-master``, which is newer than what we had).

        An answer with an older epoch is ignored: the sentinel that leads a failover
        names the old master until the failover ends, the others the new one.
        """
        address = (str(address[0]), int(address[1]))
        with self._cond:
            if epoch is None:
                epoch = self.epoch + 1 if address != self.address else self.epoch
            if epoch < self.epoch or (epoch == self.epoch and address != self.address):
                return  # older, or as old as what we follow: keep following that
            self.epoch = epoch
            if self.address is None:
                self.address = address
            elif address != self.address:
                self.address = address
                self.generation += 1
                self.switches += 1
                self._fenced_until = 0.0  # lifted by a new master only (not the old one)
                self._cond.notify_all()

    def fence(self) -> None:
        with self._cond:
            self._fenced_until = time.monotonic() + self.fence_timeout

    def fence_lifted(self) -> None:
        with self._cond:
            self._fenced_until = 0.0
            self._cond.notify_all()

    def event(self, channel: str, data: str) -> None:
        """One message from a sentinel's pub/sub."""
        words = data.split()
        if channel == "+switch-master":
            # <name> <old-ip> <old-port> <new-ip> <new-port>
            if len(words) >= 5 and words[0] == self.service:
                self.found((words[3], int(words[4])))
            return
        # <type> <name> <ip> <port> [@ <master-name> <ip> <port>]
        if len(words) < 2 or words[0] != "master" or words[1] != self.service:
            return
        if channel in FENCE_EVENTS:
            self.fence()
        elif channel.startswith(UNFENCE_EVENTS):
            self.check_now()

    # -- threads -------------------------------------------------------------------------
    def start(self) -> None:
        with self._cond:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._stop = threading.Event()
            self._threads = []
            self.discover()
            ref = weakref.ref(self)
            stop = self._stop
            targets: list[tuple[Callable[..., None], tuple[Any, ...]]] = [
                (_check_loop, (ref, stop))
            ]
            for client in self.sentinel.sentinels:
                targets.append((_event_loop, (ref, stop, client)))
            for target, args in targets:
                thread = threading.Thread(
                    target=target, args=args, name="django-rsmq-sentinel", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._pid = -1
        self.fence_lifted()


def _check_loop(ref: weakref.ref[MasterWatch], stop: threading.Event) -> None:
    while True:
        watch = ref()
        if watch is None:
            return
        interval = watch.check_interval
        watch.discover()
        del watch
        if stop.wait(interval):
            return


def _event_loop(ref: weakref.ref[MasterWatch], stop: threading.Event, client: redis.Redis) -> None:
    failures = 0
    while not stop.is_set():
        pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call,unused-ignore]
        try:
            pubsub.psubscribe("+try-failover", "+elected-leader", "+failover-state-select-slave")
            pubsub.psubscribe("+switch-master", "+failover-end", "-failover-abort-*")
            while not stop.is_set():
                message = pubsub.get_message(timeout=0.5)
                failures = 0
                watch = ref()
                if watch is None:
                    return  # its pool is gone
                if message is not None and message["type"] == "pmessage":
                    watch.event(_text(message["channel"]), _text(message["data"]))
                del watch
        except (redis.RedisError, OSError):
            pass  # this sentinel is gone for now: the others and the check loop still run
        finally:
            with contextlib.suppress(Exception):
                pubsub.close()
        if stop.wait(BACKOFF[min(failures, len(BACKOFF) - 1)]):
            return
        failures += 1


def _refusal(error: Exception) -> str | None:
    """The refusal code in a reply (``READONLY …`` or a script's ``… -READONLY …``)."""
    if isinstance(error, ReadOnlyError):
        return "READONLY"
    if isinstance(error, BusyLoadingError):
        return "LOADING"
    text = str(error)
    for code in REFUSALS:
        if text.startswith(code) or f"-{code} " in text:
            return code
    return None


class FollowingConnection(SentinelManagedConnection):
    """A Sentinel-managed connection that follows :class:`MasterWatch` generations."""

    generation = -1

    def __init__(self, **kwargs: Any) -> None:
        self.master_watch: MasterWatch = kwargs.pop("master_watch")
        super().__init__(**kwargs)  # type: ignore[no-untyped-call,unused-ignore]

    def connect_to(self, address: tuple[str, int]) -> None:
        # Read before connecting: a switch meanwhile leaves this connection stale (safe).
        self.generation = self.master_watch.generation
        super().connect_to(address)  # type: ignore[no-untyped-call,unused-ignore]

    def is_stale(self) -> bool:
        """Connected before the latest master change."""
        connected = getattr(self, "_sock", None) is not None
        return connected and self.generation != self.master_watch.generation

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        self.master_watch.before_command()
        if self.is_stale():
            self.disconnect()  # type: ignore[no-untyped-call]  # ours while we send
        if getattr(self, "_sock", None) is None:
            self.connect()  # type: ignore[no-untyped-call]  # via Sentinel discovery
        super().send_packed_command(command, check_health)  # type: ignore[no-untyped-call,unused-ignore]

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            # Connection's, not SentinelManagedConnection's (which turns READONLY into a
            # ConnectionError that redis-py would retry, even where unsafe).
            return Connection.read_response(self, *args, **kwargs)
        except (ResponseError, BusyLoadingError) as error:
            code = _refusal(error)
            if code is None:
                raise
            self.disconnect()  # type: ignore[no-untyped-call,unused-ignore]
            self.master_watch.check_now()
            raise WriteRefused(code, str(error)) from error


class FollowingSSLConnection(FollowingConnection, SSLConnection):
    pass


class FollowingPool(SentinelConnectionPool):
    """A master pool of :class:`FollowingConnection`; starts following on first use."""

    def __init__(self, service_name: str, sentinel_manager: Any, **kwargs: Any) -> None:
        watch = kwargs.pop("master_watch", None) or MasterWatch(sentinel_manager, service_name)
        ssl = kwargs.pop("ssl", False)
        kwargs["connection_class"] = FollowingSSLConnection if ssl else FollowingConnection
        kwargs["is_master"] = True
        super().__init__(service_name, sentinel_manager, **kwargs)  # type: ignore[no-untyped-call,unused-ignore]
        self.master_watch: MasterWatch = watch
        self.connection_kwargs["master_watch"] = watch
        # New connections connect to the followed master, not to whichever sentinel
        # answers first (see MasterWatch.found).
        self.proxy.sentinel_manager = _Followed(sentinel_manager, watch)

    def release(self, connection: Any) -> None:
        if is_stale(connection):
            connection.disconnect()  # given back by its last user: nobody else holds it
        super().release(connection)


class _Followed:
    """The Sentinel manager as redis-py's pool proxy sees it: the master is the one the
    watch follows; everything else is the real manager's."""

    def __init__(self, manager: Any, watch: MasterWatch) -> None:
        self._manager = manager
        self._watch = watch

    def discover_master(self, service_name: str) -> tuple[str, int]:
        return self._watch.master_address()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._manager, name)


def is_stale(connection: Any) -> bool:
    """Whether ``connection`` (of any class) was made before its master changed."""
    check = getattr(connection, "is_stale", None)
    return bool(check()) if callable(check) else False


def retry_refused(run: Callable[[], T]) -> T:
    """``run()``, once more if the server refused it before running it (see above)."""
    try:
        return run()
    except WriteRefused:
        return run()


def sentinel_master(
    sentinels: Sequence[tuple[str, int]],
    service: str,
    *,
    sentinel_kwargs: dict[str, Any] | None = None,
    master_kwargs: dict[str, Any] | None = None,
    **connection_kwargs: Any,
) -> redis.Redis:
    """A client for ``service``'s master that follows failovers (see module doc).

    ``connection_kwargs`` go to every connection (sentinels' and master's, as
    redis-py's ``Sentinel(**kwargs)``), ``master_kwargs`` to the master's only (db, auth,
    ssl: ``Sentinel.master_for(**kwargs)``).
    """
    from redis.sentinel import Sentinel

    manager = Sentinel(  # type: ignore[no-untyped-call,unused-ignore]
        list(sentinels), sentinel_kwargs=sentinel_kwargs, **connection_kwargs
    )
    client: redis.Redis = manager.master_for(  # type: ignore[no-untyped-call,unused-ignore]
        service, connection_pool_class=FollowingPool, **(master_kwargs or {})
    )
    return client
