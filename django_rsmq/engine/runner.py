"""The sync front end's I/O: run protocol calls (alone or pipelined) and drive long polls."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from redis.exceptions import NoScriptError
from redis.retry import Retry

from . import durable as durable_mod
from .connection import RAW, sync_client
from .errors import ReplyLost
from .fastpath import FastPath, Unanswered, fast_path_for
from .frontend import FrontEnd, check_replayable, eval_args, parse_replies
from .listener import Listener, Watch
from .operation import Durable, Stepper, Steps, SyncFront
from .protocol import Call
from .sentinel import retry_refused

__all__ = ["SyncRunner"]

T = TypeVar("T")


def _ignore(error: Exception) -> None:
    """Retry's failure callback: the fast path already dropped the failed connection."""


class Lost:
    """An Unanswered carried out of a retry policy's loop as a return value."""

    __slots__ = ("error",)

    def __init__(self, error: Unanswered) -> None:
        self.error = error


def _once(run: Callable[[Any], Any], arg: Any) -> Any:
    try:
        return run(arg)
    except Unanswered as lost:
        return Lost(lost)


def unwrap_lost(result: Any) -> Any:
    """``result``, or raise the Unanswered a :class:`Lost` carries."""
    if isinstance(result, Lost):
        raise result.error
    return result


class SyncRunner(FrontEnd[redis.Redis], SyncFront):
    def _connect(self, client: redis.Redis | str | None) -> redis.Redis:
        self.client = sync_client(client)
        self._fast: FastPath | None = fast_path_for(self.client)
        self._retry: Retry | None = self.client.get_retry() if self._fast is not None else None
        self._listener: Listener | None = None
        self._listener_lock = threading.Lock()
        return self.client

    # Lost replies (docs/reliability.md, "Which operations retry"): an error before a
    # command reached Redis is retried (the client's retry policy, a fresh connection);
    # after it was sent, only a replay-safe script (Call.replay_safe) runs again, and its
    # reply is parsed as a replay's (Call.parse_replayed); any other raises ReplyLost.
    # Clients without a fast path use redis-py's execute_command, which cannot tell the
    # two apart: its retry policy decides (docs/reliability.md).

    def _sent(self, fast: FastPath, command: bytes) -> Any:
        """``command`` on the fast path, retried per the client's policy while it did
        not reach Redis. Unanswered is never retried: it leaves the policy's loop as a
        value, so even a policy told to retry on every ``Exception`` cannot replay it."""
        retry = self._retry
        if retry is None:
            return fast.execute(command)
        return unwrap_lost(retry.call_with_retry(lambda: _once(fast.execute, command), _ignore))

    def _reply(self, call: Call[Any]) -> tuple[Any, bool]:
        """The call's reply, and whether it is a replay's (the first reply was lost)."""
        fast = self._fast
        if fast is None:
            return self._slow(call), False
        try:
            try:
                return self._sent(fast, call.command()), False
            except NoScriptError:  # the script did not run: EVAL loads it again
                return self._sent(fast, call.eval_command()), False
        except Unanswered as lost:
            if not call.replay_safe:
                raise ReplyLost(call.name, str(lost.error)) from lost.error
            return self._slow(call), True

    def _slow(self, call: Call[Any]) -> Any:
        """redis-py's execute_command (its retry policy applies), EVAL on NOSCRIPT."""
        try:
            return self.client.execute_command(*call.evalsha(), **RAW)  # type: ignore[no-untyped-call]
        except NoScriptError:
            return self.client.execute_command(*eval_args(call), **RAW)  # type: ignore[no-untyped-call]

    def _run(self, call: Call[T]) -> T:
        # A READONLY/NOREPLICAS/LOADING refusal means the call did not run: once more.
        reply, replayed = retry_refused(lambda: self._reply(call))
        return call.parse_replayed(reply) if replayed else call.parse(reply)

    def _pipelined(self, calls: Sequence[Call[Any]]) -> tuple[list[Any], int]:
        """The replies of several calls sent in one round trip, errors as instances, and
        the index from which they are replays' (``len(calls)``: none is)."""
        fast = self._fast
        if fast is None:
            return self._slow_many(calls), len(calls)
        try:
            return self._sent_many(fast, [c.command() for c in calls]), len(calls)
        except Unanswered as lost:
            done = check_replayable(calls, lost)
            return [*lost.replies, *self._slow_many(calls[done:])], done

    def _sent_many(self, fast: FastPath, commands: list[bytes]) -> list[Any]:
        retry = self._retry
        if retry is None:
            return fast.execute_many(commands)
        replies: list[Any] = unwrap_lost(
            retry.call_with_retry(lambda: _once(fast.execute_many, commands), _ignore)
        )
        return replies

    def _slow_many(self, calls: Sequence[Call[Any]]) -> list[Any]:
        pipe = self.client.pipeline(transaction=False)
        for c in calls:
            pipe.execute_command(*c.evalsha(), **RAW)  # type: ignore[no-untyped-call]
        return pipe.execute(raise_on_error=False)

    def _run_calls(self, calls: Sequence[Call[Any]]) -> list[Any]:
        """Several calls in one round trip (a non-transactional pipeline), parsed in order."""
        if len(calls) == 1:
            return [self._run(calls[0])]
        replies, replayed_from = self._pipelined(calls)
        return self._drive(parse_replies(calls, replies, replayed_from))

    def _listen(self) -> Listener:
        with self._listener_lock:
            if self._listener is None or self._listener.pid != os.getpid():
                self._listener = Listener(self.client)  # a forked child needs its own
            return self._listener

    def _drive(self, plan: Steps[T]) -> T:
        """Run a multi-step operation (engine/operation.py): each step's result is sent
        back into it."""
        stepper: Stepper[Watch] = Stepper(plan)
        try:
            step = stepper.first()
            while step is not None:
                step = stepper.send(self._perform(step, stepper))
            return stepper.result  # type: ignore[no-any-return]
        finally:
            stepper.close()

    def _run_or_error(self, calls: Sequence[Call[Any]]) -> list[Any]:
        try:
            return self._run_calls(calls)
        except Exception as exc:
            return [exc]  # the plan decides (a Run of one call)

    def _replay(self, call: Call[Any]) -> Any:
        return call.parse_replayed(self._slow(call))

    def _durable(self, step: Durable) -> Any:
        return durable_mod.run(self, step.call, step.replicas, step.timeout_ms)

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
