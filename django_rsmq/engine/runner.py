"""The sync front end's I/O: run protocol calls (alone or pipelined) and drive long polls."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import redis
from redis.client import NEVER_DECODE
from redis.exceptions import ConnectionError, NoScriptError, TimeoutError

from .connection import sync_client
from .fastpath import FastPath, fast_path_for
from .frontend import FrontEnd
from .listener import Listener, Watch
from .longpoll import Listen, Plan, Run
from .message import Message
from .protocol import Call
from .sentinel import retry_refused
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
        self._fast: FastPath | None = fast_path_for(self.client)
        self._listener: Listener | None = None
        self._listener_lock = threading.Lock()

    def _raw(self, call: Call[Any]) -> Any:
        if self._fast is not None:
            try:
                return self._fast.execute(call.command())
            except NoScriptError:
                return self._eval(call)
            except (ConnectionError, TimeoutError):
                pass  # a stale connection: redis-py's path below reconnects and retries
        try:
            return self.client.execute_command(*call.evalsha(), **RAW)  # type: ignore[no-untyped-call]
        except NoScriptError:
            return self._eval(call)

    def _eval(self, call: Call[Any]) -> Any:
        """EVAL the script's source, which also puts it back into Redis' script cache."""
        return self.client.execute_command(  # type: ignore[no-untyped-call]
            "EVAL", call.script.source, len(call.keys), *call.keys, *call.args, **RAW
        )

    def _run(self, call: Call[T]) -> T:
        # A READONLY/NOREPLICAS/LOADING refusal means the call did not run: once more.
        return call.parse(retry_refused(lambda: self._raw(call)))

    def _pipelined(self, calls: Sequence[Call[Any]]) -> list[Any]:
        """The replies of several calls sent in one round trip, errors as instances."""
        if self._fast is not None:
            try:
                return self._fast.execute_many([c.command() for c in calls])
            except (ConnectionError, TimeoutError):
                pass  # as in _raw
        pipe = self.client.pipeline(transaction=False)
        for c in calls:
            pipe.execute_command(*c.evalsha(), **RAW)  # type: ignore[no-untyped-call]
        return pipe.execute(raise_on_error=False)

    def _run_calls(self, calls: Sequence[Call[Any]]) -> list[Any]:
        """Several calls in one round trip (a non-transactional pipeline), parsed in order."""
        if len(calls) == 1:
            return [self._run(calls[0])]
        out = []
        for c, reply in zip(calls, self._pipelined(calls), strict=True):
            if isinstance(reply, NoScriptError):
                reply = self._eval(c)  # that call did not run; EVAL loads the script again
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
        """Close the long-poll listener's pub/sub connection, if any, and give the
        connections kept for script calls back to the client's pool.

        The Redis client passed in is left open. Long polls started afterwards start
        a new listener.
        """
        with self._listener_lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if self._fast is not None:
            self._fast.close()
