"""Durable sends: ``WAIT numreplicas timeout`` in the same round trip as the send.

Redis replicates asynchronously: a send acknowledged by the master can still be lost
if the master crashes before a replica got it, or, in a failover, if the replica
promoted never got it. With ``durable=N`` the send script and ``WAIT N <ms>`` are
pipelined on the same connection, so the WAIT covers the send (and every write of that
connection before it); the send is acknowledged only once ``N`` replicas confirm it.

When fewer confirm within the timeout, or the connection fails after the send went
out, :class:`~django_rsmq.engine.errors.SendNotConfirmed` is raised. The message may
still exist (on the master, and maybe on a replica that was slow to confirm): the error
carries its id when the send's reply was read. What to do is the caller's choice:
resend with the same ``dedup_id`` (a duplicate is dropped within the queue's dedup
window), or treat it like any other failed send.
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import ConnectionError, NoScriptError, TimeoutError

from .connection import RAW
from .errors import SendNotConfirmed, WriteRefused
from .protocol import Call
from .sentinel import retry_refused

__all__ = ["DURABLE_TIMEOUT", "check_durable", "confirm", "pack_wait", "run", "run_async"]

DURABLE_TIMEOUT = 1.0  # seconds WAIT waits for the replicas by default


def check_durable(durable: Any, timeout: Any) -> tuple[int, int]:
    """``(replicas, timeout_ms)``; ``ValueError`` for bad values."""
    if isinstance(durable, bool) or not isinstance(durable, int) or durable < 0:
        raise ValueError(f"durable must be a number of replicas (int >= 0), not {durable!r}")
    t = DURABLE_TIMEOUT if timeout is None else timeout
    if isinstance(t, bool) or not isinstance(t, (int, float)) or t <= 0:
        raise ValueError(f"durable_timeout must be > 0 seconds, not {timeout!r}")
    return durable, max(1, int(t * 1000))


def pack_wait(replicas: int, timeout_ms: int) -> bytes:
    """``WAIT replicas timeout_ms`` as RESP bytes."""
    a, b = str(replicas).encode(), str(timeout_ms).encode()
    return b"*3\r\n$4\r\nWAIT\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(a), a, len(b), b)


def confirm(call: Call[Any], replies: list[Any], replicas: int) -> Any:
    """The send's parsed reply, if ``replicas`` confirmed it; else raise."""
    reply, acked = replies
    if isinstance(reply, Exception):
        raise reply
    result = call.parse(reply)
    if isinstance(acked, Exception):
        raise SendNotConfirmed(str(result), replicas, 0, str(acked)) from acked
    if int(acked) < replicas:
        raise SendNotConfirmed(str(result), replicas, int(acked))
    return result


def run(runner: Any, call: Call[Any], replicas: int, timeout_ms: int) -> Any:
    """Send and WAIT on one connection of a sync runner (fast path if it has one); once
    more if the send was refused before it ran (READONLY/NOREPLICAS/LOADING)."""
    return retry_refused(lambda: _run(runner, call, replicas, timeout_ms))


def _run(runner: Any, call: Call[Any], replicas: int, timeout_ms: int) -> Any:

    from .frontend import eval_args

    try:
        fast = runner._fast
        if fast is not None:
            replies = fast.execute_many([call.command(), pack_wait(replicas, timeout_ms)])
            if not isinstance(replies[0], NoScriptError):
                return confirm(call, replies, replicas)
        pipe = runner.client.pipeline(transaction=False)
        pipe.execute_command(*call.evalsha(), **RAW)
        pipe.execute_command("WAIT", replicas, timeout_ms)
        replies = pipe.execute(raise_on_error=False)
        if isinstance(replies[0], NoScriptError):  # did not run: EVAL loads the script
            pipe = runner.client.pipeline(transaction=False)
            pipe.execute_command(*eval_args(call), **RAW)
            pipe.execute_command("WAIT", replicas, timeout_ms)
            replies = pipe.execute(raise_on_error=False)
    except WriteRefused:
        raise  # it did not run: run() retries it once
    except (ConnectionError, TimeoutError) as exc:
        # The send may have run: no retry (it could run twice), the caller decides.
        raise SendNotConfirmed(None, replicas, 0, str(exc)) from exc
    return confirm(call, replies, replicas)


async def run_async(runner: Any, call: Call[Any], replicas: int, timeout_ms: int) -> Any:
    """The asyncio counterpart of :func:`run`."""
    try:
        return await _run_async(runner, call, replicas, timeout_ms)
    except WriteRefused:  # it did not run: once more
        return await _run_async(runner, call, replicas, timeout_ms)


async def _run_async(runner: Any, call: Call[Any], replicas: int, timeout_ms: int) -> Any:

    from .frontend import eval_args

    try:
        for script in (False, True):
            pipe = runner.client.pipeline(transaction=False)
            if script:
                pipe.execute_command(*eval_args(call), **RAW)
            else:
                pipe.execute_command(*call.evalsha(), **RAW)
            pipe.execute_command("WAIT", replicas, timeout_ms)
            replies = await pipe.execute(raise_on_error=False)
            if not isinstance(replies[0], NoScriptError):
                break
    except WriteRefused:
        raise
    except (ConnectionError, TimeoutError) as exc:
        raise SendNotConfirmed(None, replicas, 0, str(exc)) from exc
    return confirm(call, replies, replicas)
