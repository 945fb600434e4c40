"""A real Sentinel group for the tests: 1 master, 2 replicas, 3 sentinels.

Every process is a ``redis-server`` child on a free 127.0.0.1 port with its files in
one temp dir; :meth:`SentinelGroup.stop` ends exactly those processes (by their
``Popen``), nothing else. Timeouts are short (``down-after-milliseconds`` 1000) so a
failover takes a second or two. Readiness is polled with a deadline, never slept for.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from django_rsmq.engine.server import (
    RedisServer,
    RedisServerNotFound,
    find_redis_server,
    free_port,
)

SERVICE = "rsmq-test"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000


def _poll(check: Callable[[], Any], timeout: float, what: str, step: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except redis.RedisError as exc:
            last = exc
        if time.monotonic() > deadline:
            raise TimeoutError(f"sentinel group: {what} not reached after {timeout}s ({last})")
        time.sleep(step)


class SentinelProcess:
    """``redis-server <conf> --sentinel`` on 127.0.0.1:port."""

    def __init__(self, data_dir: Path, master_port: int, binary: str) -> None:
        self.port = free_port()
        self.dir = data_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf = self.dir / "sentinel.conf"
        self.conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.dir}\n"
            f"logfile {self.dir / 'sentinel.log'}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {master_port} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {SERVICE} 2\n"
        )
        self.process = subprocess.Popen(
            [binary, str(self.conf), "--sentinel"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def client(self, **kwargs: Any) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True, **kwargs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class SentinelGroup:
    def __init__(self, tmp: Path, *, min_replicas_to_write: int = 0) -> None:
        self.tmp = tmp
        self.binary = find_redis_server()
        if not os.access(self.binary, os.X_OK):
            raise RedisServerNotFound(f"redis-server {self.binary!r} is not an executable")
        self.min_replicas_to_write = min_replicas_to_write
        self.nodes: list[RedisServer] = []
        self.sentinels: list[SentinelProcess] = []

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, timeout: float = 20.0) -> None:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _node_args(self) -> list[str]:
        args = ["--repl-ping-replica-period", "1", "--repl-timeout", "5"]
        if self.min_replicas_to_write:
            args += [
                "--min-replicas-to-write",
                str(self.min_replicas_to_write),
                "--min-replicas-max-lag",
                "2",
            ]
        return args

    def _start(self, timeout: float) -> None:
        master = RedisServer(
            self.tmp / "node0", binary=self.binary, appendonly=True, extra_args=self._node_args()
        )
        master.start()
        self.nodes.append(master)
        for i in (1, 2):
            replica = RedisServer(
                self.tmp / f"node{i}",
                binary=self.binary,
                appendonly=True,
                extra_args=[*self._node_args(), "--replicaof", "127.0.0.1", str(master.port)],
            )
            replica.start()
            self.nodes.append(replica)
        for i in range(3):
            self.sentinels.append(
                SentinelProcess(self.tmp / f"sentinel{i}", master.port, self.binary)
            )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Until every sentinel sees the master, 2 replicas and 2 other sentinels, and
        the master has 2 replicas online."""

        def ready() -> bool:
            host, port = self.master_address()
            info = redis.Redis(host=host, port=port).info("replication")
            if info.get("role") != "master" or info.get("connected_slaves") != 2:
                return False
            # Connected is not synced: Redis 7 lists a replica while its first full sync
            # (an AOF-backed one takes a while) is still under way.
            links = [info.get(f"slave{i}", {}) for i in range(2)]
            if any(link.get("state") != "online" for link in links):
                return False
            for s in self.sentinels:
                c = s.client(socket_timeout=1)
                try:
                    if c.sentinel_get_master_addr_by_name(SERVICE) != (host, port):
                        return False
                    replicas = [r for r in c.sentinel_slaves(SERVICE) if "s_down" not in r["flags"]]
                    if len(replicas) != 2 or len(c.sentinel_sentinels(SERVICE)) != 2:
                        return False
                finally:
                    c.close()
            return True

        _poll(ready, timeout, "ready (master, 2 replicas, 3 sentinels)", step=0.05)

    def stop(self) -> None:
        for s in self.sentinels:
            s.stop()
        for n in self.nodes:
            n.stop()

    # -- looking and acting ------------------------------------------------------------
    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", s.port) for s in self.sentinels]

    def master_address(self) -> tuple[str, int]:
        for s in self.sentinels:
            if s.process.poll() is not None:
                continue
            c = s.client(socket_timeout=1)
            try:
                addr = c.sentinel_get_master_addr_by_name(SERVICE)
            except redis.RedisError:
                continue
            finally:
                c.close()
            if addr:
                return str(addr[0]), int(addr[1])
        raise redis.ConnectionError("no sentinel answers")

    def node_at(self, port: int) -> RedisServer:
        return next(n for n in self.nodes if n.port == port)

    def master(self) -> RedisServer:
        return self.node_at(self.master_address()[1])

    def failover(self, via: int = 0) -> tuple[str, int]:
        """``SENTINEL FAILOVER`` (planned) sent to sentinel ``via``; returns the old
        master's address."""
        old = self.master_address()
        # What was written before the failover is on the replicas (WAIT), so a test's own
        # setup (its queue) survives the switch; traffic during it is what tests measure.
        with redis.Redis(host=old[0], port=old[1], socket_timeout=5) as m:
            m.execute_command("WAIT", len(self.nodes) - 1, 2000)
        c = self.sentinels[via].client(socket_timeout=2)
        try:
            c.execute_command("SENTINEL", "FAILOVER", SERVICE)
        finally:
            c.close()
        return old

    def wait_master_not(self, old: tuple[str, int], timeout: float = 15.0) -> tuple[str, int]:
        """Until every sentinel names a master other than ``old``."""

        def moved() -> tuple[str, int] | None:
            seen = set()
            for s in self.sentinels:
                if s.process.poll() is not None:
                    continue  # stopped by the test
                c = s.client(socket_timeout=1)
                try:
                    addr = c.sentinel_get_master_addr_by_name(SERVICE)
                finally:
                    c.close()
                seen.add((str(addr[0]), int(addr[1])))
            if len(seen) == 1 and old not in seen:
                return seen.pop()
            return None

        found: tuple[str, int] = _poll(moved, timeout, "a new master")
        return found

    def wait_settled(self, timeout: float = 20.0) -> None:
        """Until the group is whole again (the old master demoted to a replica)."""
        self.wait_ready(timeout)
