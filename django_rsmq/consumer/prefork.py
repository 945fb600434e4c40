"""``rsmq_consume --processes N``: a parent supervising N consumer processes.

Each child is started with multiprocessing's ``spawn`` context: a fresh interpreter
that sets Django up itself and opens its own Redis connections, so no connection (or
lock, or thread) is ever shared across a fork. The parent never touches Redis.

The parent:

- forwards SIGTERM/SIGINT to every child as SIGTERM (first signal: warm stop, second:
  cold stop, as for one process). Children ignore SIGINT, so a Ctrl-C that reaches the
  whole process group is not counted twice; a child also stops warm when its parent
  dies (it watches the parent's sentinel).
- replaces a child that dies unexpectedly (an exit code other than 0, 1 and 2, or
  killed by a signal) after a back-off (1 s, doubling up to 30 s, back to 1 s once a
  child ran 60 s), logging one line. A child that exits 0 by itself (``--burst``,
  ``--max-messages``, ``--max-idle-time``, its own SIGTERM) is not replaced; exit code 1
  (Redis unreachable at start) or 2 (configuration error) stops the others warm.
- exits when every child has, with the worst of the children's last exit codes
  (:func:`worst`): 4, then 3, then 5, then 2, then 1, then 0; a child killed by a signal
  while the parent was stopping counts as 3 (a cold stop), except by SIGTERM, which
  kills only a child still starting (before it received anything): 0. Children that
  were replaced do not count: their death was logged and dealt with.
- starts its children as daemons: should the parent itself fail, multiprocessing's
  exit handler sends each child SIGTERM (a warm stop) and waits for it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import wait as wait_any
from multiprocessing.process import BaseProcess
from typing import Any

from .relay import relays
from .worker import Consumer, ConsumerError, ExitCode

__all__ = ["consume", "prefork", "worst"]

BACKOFF_MIN = 1.0
BACKOFF_MAX = 30.0
HEALTHY_AFTER = 60.0  # a child that ran this long resets the back-off
_RANK = [ExitCode.THREAD_DIED, ExitCode.COLD_STOP, ExitCode.HANDLER_EXIT]
_RANK += [ExitCode.CONFIG_ERROR, ExitCode.CONNECTION_ERROR, ExitCode.OK]
NOT_REPLACED = {int(ExitCode.OK), int(ExitCode.CONNECTION_ERROR), int(ExitCode.CONFIG_ERROR)}


def worst(codes: list[int]) -> int:
    """The exit code the parent exits with: 4, then 3, then 5, then 2, then 1, then 0
    (an unknown code ranks first)."""

    def rank(code: int) -> int:
        try:
            return _RANK.index(ExitCode(code))
        except ValueError:
            return -1

    return min(codes, key=rank, default=0)


def consume(options: dict[str, Any], write: Callable[[str], None], *, child: bool = False) -> int:
    """Run one :class:`Consumer` with the command's options until it stops; its exit
    code. SIGTERM (and, unless ``child``, SIGINT) asks it to stop: warm, then cold."""
    try:
        consumer = _consumer(options, write)
    except ConsumerError as exc:  # a bad option: one line, like setup's errors
        write(f"rsmq_consume: {exc}")
        return int(exc.exit_code)

    def on_signal(signum: int, frame: Any) -> None:
        consumer.request_stop()  # takes no lock: it counts and wakes the main loop

    handlers: dict[int, Any] = {signal.SIGTERM: on_signal}
    handlers[signal.SIGINT] = signal.SIG_IGN if child else on_signal
    previous = {s: signal.signal(s, h) for s, h in handlers.items()}
    try:
        with relays(options.get("relay"), write):
            return consumer.run()
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _consumer(options: dict[str, Any], write: Callable[[str], None]) -> Consumer:
    return Consumer(
        options["queues"],
        exclude=options["exclude"],
        strict=options.get("strict", False),
        concurrency=options["concurrency"],
        prefetch=options["prefetch"],
        burst=options["burst"],
        max_messages=options["max_messages"],
        max_idle_time=options["max_idle_time"],
        shutdown_timeout=options["shutdown_timeout"],
        name=options["name"],
        verbosity=options["verbosity"],
        write=write,
        schedule=options.get("schedule", True),
    )


def _watch_parent(stop: Callable[[], None]) -> None:
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait_any([parent.sentinel])
        stop()

    threading.Thread(target=watch, name="rsmq-parent-watch", daemon=True).start()


def _child(options: dict[str, Any]) -> None:
    """A spawned child: set Django up, run one consumer, exit with its code."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent forwards Ctrl-C
    import django

    django.setup()

    def write(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    # The parent's death: a warm stop (SIGTERM to ourselves goes through request_stop).
    _watch_parent(lambda: os.kill(os.getpid(), signal.SIGTERM))
    sys.exit(consume(options, write, child=True))


def _final_code(code: int) -> int:
    """A child's exit code as it counts for the parent's. Killed by SIGTERM: it was
    stopped before it installed its handler (before it received anything), 0; by any
    other signal: 3, like a cold stop."""
    if code == -signal.SIGTERM:
        return int(ExitCode.OK)
    return int(ExitCode.COLD_STOP) if code < 0 else code


class _Slot:
    def __init__(self, index: int) -> None:
        self.index = index
        self.proc: BaseProcess | None = None
        self.started = 0.0
        self.backoff = BACKOFF_MIN
        self.restart_at: float | None = None
        self.code: int | None = None  # the last child's exit code once it is done


def prefork(options: dict[str, Any], processes: int, write: Callable[[str], None]) -> int:
    """Start ``processes`` consumer children and supervise them; the exit code."""
    ctx = multiprocessing.get_context("spawn")
    rfd, wfd = os.pipe()
    os.set_blocking(rfd, False)
    os.set_blocking(wfd, False)
    stop_requests = 0

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stop_requests
        stop_requests += 1
        with contextlib.suppress(OSError):
            os.write(wfd, b".")

    slots = [_Slot(i) for i in range(1, processes + 1)]

    def start(slot: _Slot) -> None:
        opts = dict(options)
        if options["name"]:
            opts["name"] = f"{options['name']}.{slot.index}"
        slot.proc = ctx.Process(
            target=_child, args=(opts,), name=f"rsmq-consume-{slot.index}", daemon=True
        )
        slot.proc.start()
        slot.started = time.monotonic()
        slot.restart_at = None

    def forward(sig: int = signal.SIGTERM) -> None:
        for s in slots:
            if s.proc is not None and s.proc.exitcode is None and s.proc.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(s.proc.pid, sig)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    forwarded = 0
    stopping = False
    try:
        for slot in slots:
            start(slot)
        verbosity = options["verbosity"]
        if verbosity >= 1:
            pids = ", ".join(str(s.proc.pid) for s in slots if s.proc is not None)
            write(f"rsmq_consume: parent {os.getpid()} supervising {processes} processes ({pids})")
        while True:
            if stop_requests > forwarded:
                stopping = True
                for _ in range(stop_requests - forwarded):
                    forward()
                forwarded = stop_requests
            now = time.monotonic()
            for slot in slots:
                proc = slot.proc
                if proc is None or proc.exitcode is None:
                    if slot.restart_at is not None and now >= slot.restart_at and not stopping:
                        start(slot)
                    continue
                code, pid = proc.exitcode, proc.pid
                proc.close()
                slot.proc = None
                if stopping or code in NOT_REPLACED:
                    slot.code = _final_code(code)
                    if code in (ExitCode.CONNECTION_ERROR, ExitCode.CONFIG_ERROR) and not stopping:
                        stopping = True
                        forward()  # start-up failures repeat: stop the others
                    continue
                if now - slot.started >= HEALTHY_AFTER:
                    slot.backoff = BACKOFF_MIN
                how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
                write(
                    f"rsmq_consume: process {slot.index} (pid {pid}) died ({how}): "
                    f"starting a new one in {slot.backoff:g}s"
                )
                slot.restart_at = now + slot.backoff
                slot.backoff = min(slot.backoff * 2, BACKOFF_MAX)
            if all(s.proc is None and (s.code is not None or stopping) for s in slots):
                break
            timeout = 1.0
            pending = [s.restart_at for s in slots if s.restart_at is not None]
            if pending:
                timeout = max(0.0, min(timeout, min(pending) - time.monotonic()))
            sentinels = [s.proc.sentinel for s in slots if s.proc is not None]
            with contextlib.suppress(InterruptedError):
                wait_any([*sentinels, rfd], timeout)
            with contextlib.suppress(BlockingIOError, InterruptedError):
                while os.read(rfd, 4096):
                    pass
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        os.close(rfd)
        os.close(wfd)
    code = worst([s.code if s.code is not None else 0 for s in slots])
    if options["verbosity"] >= 1:
        write(f"rsmq_consume: parent stopped (exit code {code})")
    return code
