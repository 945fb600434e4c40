"""The asyncio front end's I/O: run protocol calls (alone or pipelined), drive long polls."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import redis.asyncio
from redis.exceptions import NoScriptError

from ..connection import async_client
from ..frontend import FrontEnd
from ..longpoll import Listen, Plan, Run
from ..message import Message
from ..protocol import Call
from ..runner import RAW
from ..serializers import Serializer
from .listener import AsyncListener, AsyncWatch
from .sentinel import aretry_refused

__all__ = ["AsyncRunner"]

T = TypeVar("T")


class AsyncRunner(FrontEnd):
    def __init__(
        self,
        client: redis.asyncio.Redis | str | None = None,
        *,
        namespace: str = "rsmq",
        realtime: bool | Iterable[str] = False,
        serializer: str | Serializer | None = None,
        poll_interval: float = 1.0,
    ) -> None:
        super().__init__(
            namespace=namespace,
            realtime=realtime,
            serializer=serializer,
            poll_interval=poll_interval,
        )
        self.client = async_client(client)
        self._listener: AsyncListener | None = None

    async def _raw(self, call: Call[Any]) -> Any:
        try:
            return await self.client.execute_command(*call.evalsha(), **RAW)  # type: ignore[no-untyped-call]
        except NoScriptError:
            return await self.client.execute_command(  # type: ignore[no-untyped-call]
                "EVAL", call.script.source, len(call.keys), *call.keys, *call.args, **RAW
            )

    async def _run(self, call: Call[T]) -> T:
        # A READONLY/NOREPLICAS/LOADING refusal means the call did not run: once more.
        return call.parse(await aretry_refused(lambda: self._raw(call)))

    async def _run_calls(self, calls: Sequence[Call[Any]]) -> list[Any]:
        """Several calls in one round trip (a non-transactional pipeline), parsed in order."""
        if len(calls) == 1:
            return [await self._run(calls[0])]
        pipe = self.client.pipeline(transaction=False)
        for c in calls:
            pipe.execute_command(*c.evalsha(), **RAW)
        replies = await pipe.execute(raise_on_error=False)
        out = []
        for c, reply in zip(calls, replies, strict=True):
            if isinstance(reply, NoScriptError):
                reply = await self._raw(c)  # that call did not run; EVAL loads the script
            elif isinstance(reply, Exception):
                raise reply
            out.append(c.parse(reply))
        return out

    def _listen(self) -> AsyncListener:
        loop = asyncio.get_running_loop()
        if self._listener is None or self._listener.loop is not loop:
            self._listener = AsyncListener(self.client)  # one per event loop
        return self._listener

    async def _drive(self, plan: Plan) -> list[Message]:
        watch: AsyncWatch | None = None
        task = asyncio.current_task()
        cancels = task.cancelling() if task is not None else 0
        try:
            step = next(plan)
            while True:
                if isinstance(step, Run):
                    value: Any = await self._run_calls(step.calls)
                elif isinstance(step, Listen):
                    watch = self._listen().watch(step.channels)
                    value = await watch.ready(step.timeout)
                else:
                    assert watch is not None
                    value = await watch.wait(step.timeout)
                if task is not None and task.cancelling() > cancels:
                    # redis.asyncio can swallow a cancellation that lands mid-command;
                    # a long poll must not then sleep on for up to ``wait`` seconds.
                    raise asyncio.CancelledError
                step = plan.send(value)
        except StopIteration as done:
            result: list[Message] = done.value
            return result
        finally:
            plan.close()
            if watch is not None:
                watch.close()

    async def aclose(self) -> None:
        """Stop the long-poll listener (its tasks and pub/sub connection), if any.

        The Redis client passed in is left open.
        """
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.aclose()
