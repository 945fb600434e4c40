"""A self-pipe: how any thread, and a signal handler, wakes the consumer's supervisor.

A signal handler runs in the main thread between two bytecodes, possibly while that
thread holds a lock (inside ``Event.wait()``, a ``Condition``, a ``Queue``...): taking
a lock there can deadlock. :meth:`Waker.poke` only writes a byte to a non-blocking
pipe, which takes no Python lock; :meth:`Waker.pause` waits on the pipe with
``select``, which a signal interrupts (the handler's byte then makes it return).
"""

from __future__ import annotations

import contextlib
import os
import select
import time
import weakref

__all__ = ["Waker"]


def _close(*fds: int) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


class Waker:
    def __init__(self) -> None:
        self._rfd, self._wfd = os.pipe()
        os.set_blocking(self._rfd, False)
        os.set_blocking(self._wfd, False)
        self._closer = weakref.finalize(self, _close, self._rfd, self._wfd)

    def poke(self) -> None:
        """Wake the waiting thread. Takes no lock: safe in a signal handler."""
        # OSError: pipe full (it is awake anyway) or closed (it is gone)
        with contextlib.suppress(OSError):
            os.write(self._wfd, b".")

    def pause(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for a poke."""
        if not self._closer.alive:
            time.sleep(max(0.0, min(timeout, 0.1)))
            return
        try:
            select.select([self._rfd], [], [], max(0.0, timeout))
            while os.read(self._rfd, 4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def close(self) -> None:
        self._closer()
