"""The sync front end's I/O: run protocol calls (alone or pipelined) and drive long polls."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import redis
from redis.client import NEVER_DECODE
from redis.exceptions import NoScriptError

from .connection import sync_client
from .frontend import FrontEnd
from .listener import Listener, Watch
from .longpoll import Listen, Plan, Run
from .message import Message
from .protocol import Call
from .serializers import Serializer

__all__ = ["SyncRunner"]

T = TypeVar("T")

# NEVER_DECODE: replies come back as bytes even on a decode_responses=True client, so a
# body that is not UTF-8 reaches the parser (-> BodyDecodeError with its id and receipt)
# instead of failing inside redis-py after the script already ran.
RAW: dict[str, Any] = {NEVER_DECODE: []}


class SyncRunner(FrontEnd):
    def __init__(
        self,
        client: redis.Redis | str | None = None,
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
        self.client = sync_client(client)
        self._listener: Listener | None = None
        self._listener_lock = threading.Lock()

    def _raw(self, call: Call[Any]) -> Any:
        try:
            return self.client.execute_command(*call.evalsha(), **RAW)  # type: ignore[no-untyped-call]
        except NoScriptError:
            return self.client.execute_command(  # type: ignore[no-untyped-call]
                "EVAL", call.script.source, len(call.keys), *call.keys, *call.args, **RAW
            )

    def _run(self, call: Call[T]) -> T:
        return call.parse(self._raw(call))

    def _run_calls(self, calls: Sequence[Call[Any]]) -> list[Any]:
        """Several calls in one round trip (a non-transactional pipeline), parsed in order."""
        if len(calls) == 1:
            return [self._run(calls[0])]
        pipe = self.client.pipeline(transaction=False)
        for c in calls:
            pipe.execute_command(*c.evalsha(), **RAW)  # type: ignore[no-untyped-call]
        replies = pipe.execute(raise_on_error=False)
        out = []
        for c, reply in zip(calls, replies, strict=True):
            if isinstance(reply, NoScriptError):
                reply = self._raw(c)  # that call did not run; EVAL loads the script again
            elif isinstance(reply, Exception):
                raise reply
            out.append(c.parse(reply))
        return out

    def _listen(self) -> Listener:
        with self._listener_lock:
            if self._listener is None or self._listener.pid != os.getpid():
                self._listener = Listener(self.client)  # a forked child needs its own
            return self._listener

    def _drive(self, plan: Plan) -> list[Message]:
        watch: Watch | None = None
        try:
            step = next(plan)
            while True:
                if isinstance(step, Run):
                    value: Any = self._run_calls(step.calls)
                elif isinstance(step, Listen):
                    watch = self._listen().watch(step.channels)
                    value = watch.ready(step.timeout)
                else:
                    assert watch is not None
                    value = watch.wait(step.timeout)
                step = plan.send(value)
        except StopIteration as done:
            result: list[Message] = done.value
            return result
        finally:
            plan.close()
            if watch is not None:
                watch.close()

    def close(self) -> None:
        """Close the long-poll listener's pub/sub connection, if any.

        The Redis client passed in is left open. Long polls started afterwards start
        a new listener.
        """
        with self._listener_lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
