"""One local ``redis-server`` per data directory, shared by every process that asks.

:func:`ensure_server` returns the URL of the server that serves ``data_dir``,
starting it first if nothing answers there. The server listens on a unix socket
only (no TCP port), keeps its data in an append-only file inside ``data_dir`` and is
started detached (``--daemonize yes``), so it outlives the process that started it
and keeps serving the other processes of the project (web, consumers, shell) across
their restarts.

Races are settled with an exclusive ``flock`` on ``data_dir/server.lock``: the
first process to take it starts the server and writes nothing else; every other
process re-checks under the lock and finds the server answering. The pid file is
written by Redis itself. Nothing here stops a server it did not start:
:func:`stop_server` is for the owner (tests, a ``make clean``) and only signals the
pid recorded in this data dir's pid file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

from .server import RedisServer, RedisServerFailed, find_redis_server

__all__ = ["EmbeddedServer", "ensure_server", "server_paths", "stop_server"]

# sun_path is 108 bytes on Linux (104 on macOS), including the terminating NUL.
_SOCKET_PATH_MAX = 100


@dataclass(frozen=True, slots=True)
class EmbeddedServer:
    """Where the embedded server of one data dir lives, and whether we started it now."""

    data_dir: Path
    socket: Path
    pid_file: Path
    lock_file: Path
    started: bool = False

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None


def server_paths(data_dir: str | os.PathLike[str]) -> EmbeddedServer:
    """The socket, pid and lock file paths for ``data_dir`` (nothing is created).

    The socket lives in the data dir unless that path is too long for a unix socket,
    in which case it goes to the temp dir under a name derived from the data dir.
    """
    d = Path(data_dir).resolve()
    sock = d / "redis.sock"
    if len(os.fsencode(sock)) > _SOCKET_PATH_MAX:
        digest = hashlib.sha256(os.fsencode(d)).hexdigest()[:16]
        sock = Path(tempfile.gettempdir()) / f"rsmq-{digest}.sock"
    return EmbeddedServer(d, sock, d / "redis.pid", d / "server.lock")


def _answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    client = redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1.0)
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, OSError):
        return False
    finally:
        client.close()


def _alive(pid: int | None) -> bool:
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by init) is not alive
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


@contextlib.contextmanager
def _locked(lock_file: Path, timeout: float) -> Iterator[None]:
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Could not lock {lock_file} within {timeout}s") from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def ensure_server(
    data_dir: str | os.PathLike[str], *, binary: str | None = None, timeout: float = 15.0
) -> EmbeddedServer:
    """Return the running embedded server of ``data_dir``, starting it if needed.

    Safe to call from many processes at once: exactly one starts the server. Raises
    :class:`~django_rsmq.engine.server.RedisServerNotFound` without a binary and
    :class:`~django_rsmq.engine.server.RedisServerFailed` (``RedisServerTimeout``, a
    ``TimeoutError``, when it does not answer in time) if the server does not come up.
    """
    paths = server_paths(data_dir)
    if _answers(paths.socket):
        return paths
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    with _locked(paths.lock_file, timeout):
        if _answers(paths.socket):
            return paths
        server = RedisServer(
            paths.data_dir,
            unix_socket=paths.socket,
            appendonly=True,
            binary=binary or find_redis_server(),
            extra_args=[
                "--daemonize",
                "yes",
                "--pidfile",
                str(paths.pid_file),
                "--appendfsync",
                "everysec",
            ],
        )
        pid = paths.pid()
        if _alive(pid) and paths.socket.exists():
            # Started by someone else and still loading its AOF: wait for it.
            server.wait_ready(timeout)
            return paths
        with contextlib.suppress(FileNotFoundError):
            paths.socket.unlink()  # left over by a crashed server
        # With --daemonize yes the launched process forks the server and exits at
        # once, so the server is re-parented to init and survives us.
        try:
            subprocess.run(
                server.command_line(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                check=True,
                timeout=timeout,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise RedisServerFailed(
                f"cannot start the embedded redis-server ({server.binary}) in "
                f"{paths.data_dir}: {exc}; its log: {server.log_tail()}"
            ) from exc
        server.wait_ready(timeout)
        return EmbeddedServer(
            paths.data_dir, paths.socket, paths.pid_file, paths.lock_file, started=True
        )


def stop_server(data_dir: str | os.PathLike[str], *, timeout: float = 10.0) -> bool:
    """Stop the embedded server of ``data_dir`` (SIGTERM: Redis flushes its AOF).

    Only the pid from this data dir's pid file is signalled. Returns ``False`` when
    no server was running there.
    """
    paths = server_paths(data_dir)
    pid = paths.pid()
    if not _alive(pid):
        return False
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            raise TimeoutError(f"embedded redis-server {pid} did not stop within {timeout}s")
        time.sleep(0.02)
    return True
