"""Where async handlers run: one event loop in its own thread, shared by all workers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from ..engine import Message

__all__ = ["EventLoopThread"]


class _Escaped(Exception):  # a carrier, never seen outside this module
    """Carries a handler's SystemExit/KeyboardInterrupt across the loop: raised raw in
    a task, asyncio re-raises them out of ``run_forever`` and the loop would die."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


class EventLoopThread:
    """An asyncio loop running forever in a daemon thread.

    :meth:`run` is called from a worker thread: it schedules the coroutine on the loop
    and blocks that worker until it finishes, so ``--concurrency`` bounds sync and
    async handlers alike while async handlers share one loop.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name="rsmq-asyncio", daemon=True)
        self._started = False
        self._stopping = False

    @property
    def name(self) -> str:
        return self._thread.name

    @property
    def started(self) -> bool:
        """Whether :meth:`start` ran (only consumers with an async handler start it)."""
        return self._started

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        while not self._stopping:  # nothing but stop() ends the loop
            try:
                self.loop.run_forever()
            except BaseException:  # already delivered to its caller
                continue

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def run(self, func: Callable[[Message], Awaitable[Any]], message: Message) -> Any:
        self.start()

        async def call() -> Any:
            try:
                return await func(message)
            except (SystemExit, KeyboardInterrupt, GeneratorExit) as exc:
                raise _Escaped(exc) from None

        try:
            return asyncio.run_coroutine_threadsafe(call(), self.loop).result()
        except _Escaped as escaped:
            raise escaped.error from None

    def stop(self) -> None:
        if self._started:
            self._stopping = True
            self.loop.call_soon_threadsafe(self.loop.stop)
