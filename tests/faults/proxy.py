"""A TCP proxy between clients and a Redis on 127.0.0.1 that loses replies and cuts
connections on demand: the faults of a real network, without mocking redis-py.

>>> proxy = FaultProxy(redis_port)          # listens on 127.0.0.1:proxy.port
>>> proxy.drop_reply_after(b"EVALSHA")      # the next command with these bytes runs in
...                                         # Redis, its reply is dropped and the client's
...                                         # connection cut (a "lost reply")
>>> proxy.cut()                             # close every connection now
>>> proxy.close()

A dropped reply is the dangerous case for at-least-once: Redis ran the command, the
client saw a ``ConnectionError`` and cannot tell whether it ran. ``dropped`` counts the
replies thrown away, ``accepted`` the client connections opened through the proxy.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field

__all__ = ["FaultProxy"]


@dataclass
class _Link:
    client: socket.socket
    upstream: socket.socket
    armed: bool = False  # drop the next upstream chunk, then cut
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for s in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


class FaultProxy:
    """Forward 127.0.0.1:``port`` to 127.0.0.1:``upstream_port``, with faults on demand."""

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._links: list[_Link] = []
        self._lock = threading.Lock()
        self._drop_pattern: bytes | None = None
        self._drop_left = 0
        self.dropped = 0
        self.accepted = 0
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    # -- faults -------------------------------------------------------------------------

    def drop_reply_after(self, pattern: bytes = b"", count: int = 1) -> None:
        """The next ``count`` commands whose bytes contain ``pattern`` (any command for
        ``b""``) reach Redis; each one's reply is dropped and its connection cut."""
        with self._lock:
            self._drop_pattern, self._drop_left = pattern, count

    def cut(self) -> int:
        """Close every open connection now; the number closed."""
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            link.close()
        return len(links)

    # -- plumbing -----------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(client, upstream)
            with self._lock:
                self._links.append(link)
                self.accepted += 1
            threading.Thread(target=self._up, args=(link,), daemon=True).start()
            threading.Thread(target=self._down, args=(link,), daemon=True).start()

    def _up(self, link: _Link) -> None:  # client -> Redis
        try:
            while data := link.client.recv(65536):
                with self._lock:
                    pattern = self._drop_pattern
                    if self._drop_left and pattern is not None and pattern in data:
                        self._drop_left -= 1
                        link.armed = True
                link.upstream.sendall(data)
        except OSError:
            pass
        link.close()

    def _down(self, link: _Link) -> None:  # Redis -> client
        try:
            while data := link.upstream.recv(65536):
                if link.armed:
                    with self._lock:
                        self.dropped += 1
                    break  # the command ran in Redis; its reply never arrives
                link.client.sendall(data)
        except OSError:
            pass
        link.close()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() at once
        self._server.close()
        self.cut()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
