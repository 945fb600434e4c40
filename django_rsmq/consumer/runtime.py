"""Where async handlers run: one event loop in its own thread, shared by all workers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from ..engine import Message

__all__ = ["EventLoopThread"]


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

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def run(self, func: Callable[[Message], Awaitable[Any]], message: Message) -> Any:
        self.start()

        async def call() -> Any:
            return await func(message)

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result()

    def stop(self) -> None:
        if self._started:
            self.loop.call_soon_threadsafe(self.loop.stop)
