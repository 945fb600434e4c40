"""The asyncio front end's I/O: run protocol calls (alone or pipelined), drive long polls."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, TypeVar

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.exceptions import NoScriptError, ResponseError

from .. import durable as durable_mod
from ..connection import RAW, async_client
from ..errors import ReplyLost, WriteRefused
from ..fastpath import LINK_ERRORS, Unanswered, socket_quiet
from ..frontend import FrontEnd, check_replayable, eval_args, parse_replies
from ..operation import AsyncFront, Durable, Stepper, Steps
from ..protocol import Call
from ..runner import Lost, unwrap_lost
from .listener import AsyncListener, AsyncWatch
from .sentinel import aretry_refused

__all__ = ["AsyncRunner"]

T = TypeVar("T")


def _careful_path_for(client: Any) -> bool:
    """Whether script calls may go straight to ``client``'s pool connections: a plain
    pooled ``redis.asyncio.Redis`` whose execute_command nobody overrides or wraps (the
    sync fast path's rule, engine/fastpath.py)."""
    if not isinstance(client, redis.asyncio.Redis) or client.single_connection_client:
        return False
    run = type(client).execute_command
    if run is not redis.asyncio.Redis.execute_command or hasattr(run, "__wrapped__"):
        return False
    pool = getattr(client, "connection_pool", None)
    return pool is not None and getattr(pool, "cache", None) is None


def _socket_of(conn: Any) -> Any:
    """The OS socket under an asyncio connection (TLS included), or None."""
    writer = getattr(conn, "_writer", None)
    if writer is None:
        return None
    return writer.transport.get_extra_info("socket")


async def _ignore(error: Exception) -> None:
    """Retry's failure callback: the failed connection was disconnected already."""


class AsyncRunner(FrontEnd[redis.asyncio.Redis], AsyncFront):
    def _connect(self, client: redis.asyncio.Redis | str | None) -> redis.asyncio.Redis:
        self.client = async_client(client)
        self._careful = _careful_path_for(self.client)
        self._retry: Retry | None = self.client.get_retry() if self._careful else None
        self._listener: AsyncListener | None = None
        return self.client

    # Lost replies: the rules of the sync runner (engine/runner.py). A plain pooled
    # client gets the careful path below (a pool connection per call, the pool checks
    # it first); others keep redis-py's execute_command and its retry policy.

    async def _sent(self, commands: list[bytes]) -> list[Any]:
        """Packed commands on one pool connection, retried per the client's policy while
        they did not reach Redis; a lost reply raises Unanswered, never retried (it
        leaves the policy's loop as a value, as in the sync runner)."""
        retry = self._retry
        if retry is None:
            return await self._send_once(commands)
        replies: list[Any] = unwrap_lost(
            await retry.call_with_retry(lambda: self._once(commands), _ignore)
        )
        return replies

    async def _once(self, commands: list[bytes]) -> Any:
        try:
            return await self._send_once(commands)
        except Unanswered as lost:
            return Lost(lost)

    async def _send_once(self, commands: list[bytes]) -> list[Any]:
        pool = self.client.connection_pool
        conn = await pool.get_connection()  # type: ignore[no-untyped-call]  # checked
        replies: list[Any] = []
        try:
            if not socket_quiet(_socket_of(conn)):
                # Closed by the peer, but the event loop has not seen it yet (so the
                # pool's check did not): reconnect before writing, not after.
                await conn.disconnect()
                await conn.connect()
            data = b"".join(commands)
            try:
                await conn.send_packed_command(data)
            except LINK_ERRORS as error:
                await conn.disconnect()
                if len(commands) > 1:
                    raise Unanswered(error) from error  # the first ones may have run
                # One command whose write failed did not run: once more, reconnected.
                await conn.connect()
                await conn.send_packed_command(data)
            refused = False
            try:
                for _ in commands:
                    try:
                        replies.append(await conn.read_response(disable_decoding=True))
                    except WriteRefused as error:  # READONLY & co.: that one did not run
                        replies.append(error)
                        refused = True
                    except ResponseError as error:
                        replies.append(error)
                if refused:
                    await conn.disconnect()  # its server is no master: reconnect
            except LINK_ERRORS as error:
                await conn.disconnect()
                raise Unanswered(error, replies) from error
            except BaseException:
                await conn.disconnect()  # a cancelled read leaves its reply unread
                raise
        finally:
            await pool.release(conn)
        return replies

    async def _reply(self, call: Call[Any]) -> tuple[Any, bool]:
        """The call's reply, and whether it is a replay's (the first reply was lost)."""
        if not self._careful:
            return await self._slow(call), False
        try:
            (reply,) = await self._sent([call.command()])
            if isinstance(reply, NoScriptError):  # did not run: EVAL loads it again
                (reply,) = await self._sent([call.eval_command()])
        except Unanswered as lost:
            if not call.replay_safe:
                raise ReplyLost(call.name, str(lost.error)) from lost.error
            return await self._slow(call), True
        if isinstance(reply, Exception):
            raise reply
        return reply, False

    async def _slow(self, call: Call[Any]) -> Any:
        """redis-py's execute_command (its retry policy applies), EVAL on NOSCRIPT."""
        try:
            return await self.client.execute_command(*call.evalsha(), **RAW)  # type: ignore[no-untyped-call]
        except NoScriptError:
            return await self.client.execute_command(*eval_args(call), **RAW)  # type: ignore[no-untyped-call]

    async def _run(self, call: Call[T]) -> T:
        # A READONLY/NOREPLICAS/LOADING refusal means the call did not run: once more.
        reply, replayed = await aretry_refused(lambda: self._reply(call))
        return call.parse_replayed(reply) if replayed else call.parse(reply)

    async def _pipelined(self, calls: Sequence[Call[Any]]) -> tuple[list[Any], int]:
        """Replies of several calls in one round trip, errors as instances, and the
        index from which they are replays' (``len(calls)``: none is)."""
        if self._careful:
            try:
                return await self._sent([c.command() for c in calls]), len(calls)
            except Unanswered as lost:
                done = check_replayable(calls, lost)
                return [*lost.replies, *await self._slow_many(calls[done:])], done
        return await self._slow_many(calls), len(calls)

    async def _slow_many(self, calls: Sequence[Call[Any]]) -> list[Any]:
        pipe = self.client.pipeline(transaction=False)
        for c in calls:
            pipe.execute_command(*c.evalsha(), **RAW)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies

    async def _run_calls(self, calls: Sequence[Call[Any]]) -> list[Any]:
        """Several calls in one round trip (a non-transactional pipeline), parsed in order."""
        if len(calls) == 1:
            return [await self._run(calls[0])]
        replies, replayed_from = await self._pipelined(calls)
        return await self._drive(parse_replies(calls, replies, replayed_from))

    def _listen(self) -> AsyncListener:
        loop = asyncio.get_running_loop()
        if self._listener is None or self._listener.loop is not loop:
            self._listener = AsyncListener(self.client)  # one per event loop
        return self._listener

    async def _drive(self, plan: Steps[T]) -> T:
        """Run a multi-step operation (engine/operation.py): each step's result is sent
        back into it."""
        task = asyncio.current_task()
        cancels = task.cancelling() if task is not None else 0
        stepper: Stepper[AsyncWatch] = Stepper(plan)
        try:
            step = stepper.first()
            while step is not None:
                value = await self._perform(step, stepper)
                if task is not None and task.cancelling() > cancels:
                    # redis.asyncio can swallow a cancellation that lands mid-command;
                    # a long poll must not then sleep on for up to ``wait`` seconds.
                    raise asyncio.CancelledError
                step = stepper.send(value)
            return stepper.result  # type: ignore[no-any-return]
        finally:
            stepper.close()

    async def _run_or_error(self, calls: Sequence[Call[Any]]) -> list[Any]:
        try:
            return await self._run_calls(calls)
        except Exception as exc:
            return [exc]  # the plan decides (a Run of one call)

    async def _replay(self, call: Call[Any]) -> Any:
        return call.parse_replayed(await self._slow(call))

    async def _durable(self, step: Durable) -> Any:
        return await durable_mod.run_async(self, step.call, step.replicas, step.timeout_ms)

    async def aclose(self) -> None:
        """Stop the long-poll listener (its tasks and pub/sub connection), if any.

        The Redis client passed in is left open.
        """
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.aclose()
