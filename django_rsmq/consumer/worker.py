"""The consumer: fetchers feed worker threads; shutdown is warm, then cold.

Threads: one :class:`~.fetch.Fetcher` per connection and visibility timeout, ``N``
workers, the :class:`~.heartbeat.VisibilityKeeper`, the :class:`~.presence.Presence`
beat and (only if an async handler exists) an event loop thread. The thread that
calls :meth:`Consumer.run` supervises: it watches the stop conditions and prints
progress. :meth:`Consumer.request_stop` (called from a signal handler) asks for a
warm stop; a second call makes it cold. It only counts the request and writes a byte
to the consumer's self-pipe, which the supervising thread waits on: a signal handler
that took a lock (``Event.set()``) could deadlock against the very thread it
interrupted.

Every thread survives every :class:`Exception` (logged once per kind, backed off, see
:mod:`.trouble`); a handler's ``BaseException`` is a failed message. A thread that
dies anyway stops the consumer (exit code 4) rather than leave its messages stranded.
"""

from __future__ import annotations

import logging
import queue as queue_mod
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .. import signals
from ..conf import rsmq_settings
from ..connections import get_rsmq
from ..engine import RSMQ, Message, get_serializer
from ..handlers import Handler, registry
from ..periodic import entries
from .exitcodes import ConsumerError, ExitCode
from .failure import release_message
from .fetch import Fetcher, SlotPool
from .heartbeat import VisibilityKeeper
from .hooks import Counters, Hooks, SignalHooks
from .periodic import Scheduler
from .presence import Presence, default_name
from .processing import MessageProcessor, Result
from .report import LineReporter, Progress
from .runtime import EventLoopThread
from .selection import QueueOrder, fetch_groups, queue_order, resolve_queues
from .settle import Settler
from .trouble import describe, expected
from .wakeup import Waker

__all__ = ["Consumer", "ConsumerError", "ExitCode"]

log = logging.getLogger("django_rsmq.consumer")


_Item = tuple[RSMQ, Message, Handler] | None


class Consumer:
    def __init__(
        self,
        queues: Sequence[str] | Mapping[str, int] | None = None,
        *,
        exclude: Sequence[str] = (),
        strict: bool = False,
        concurrency: int = 1,
        burst: bool = False,
        max_messages: int | None = None,
        max_idle_time: float | None = None,
        shutdown_timeout: float = 30.0,
        name: str | None = None,
        verbosity: int = 1,
        write: Callable[[str], None] | None = None,
        hooks: Sequence[Hooks] = (),
        wait: float | None = None,
        prefetch: int | None = None,
        schedule: bool = True,
    ) -> None:
        if concurrency < 1:
            raise ConsumerError("--concurrency must be at least 1", ExitCode.CONFIG_ERROR)
        cfg = rsmq_settings().consumer
        if prefetch is None and cfg.prefetch is not None:
            prefetch = int(cfg.prefetch)
        if prefetch is not None and prefetch < 0:
            raise ConsumerError("--prefetch must be at least 0", ExitCode.CONFIG_ERROR)
        # Messages held beyond the busy workers: received together with the workers'.
        self.prefetch = concurrency if prefetch is None else prefetch
        # "critical:5" / {"critical": 5}: weighted order; strict: the given order.
        self.order: QueueOrder = queue_order(queues, strict=strict)
        self.requested = self.order.names
        self.exclude = list(exclude)
        self.concurrency = concurrency
        self.burst = burst
        self.max_messages = max_messages
        self.max_idle_time = max_idle_time
        self.shutdown_timeout = shutdown_timeout
        self.name = name or default_name()
        self.verbosity = verbosity
        self._write_lock = threading.Lock()
        self._write = write or self._stdout
        self.wait = cfg.wait if wait is None else wait
        if burst:
            self.wait = 0.0  # drain what is there: an empty receive ends it
        self.counters = Counters()
        extra: list[Hooks] = [LineReporter(self.write)] if verbosity >= 2 else []
        self.loop = EventLoopThread()
        self.keeper = VisibilityKeeper()
        self.processor = MessageProcessor(
            [SignalHooks(), self.counters, *extra, *hooks],
            run_async=self.loop.run,
            manage_db_connections=True,
        )
        # Batched settle (ACK_INTERVAL > 0): acks go to Redis in ack_many batches.
        self.settler: Settler | None = None
        if cfg.ack_interval > 0:
            self.settler = Settler(self.processor, self._settled_ack, interval=cfg.ack_interval)
            self.processor.settle = self.settler.ack
        self.progress = Progress(self.counters, self.write, cfg.progress_interval)
        self.slots = SlotPool(concurrency + self.prefetch)
        self.work: queue_mod.SimpleQueue[_Item] = queue_mod.SimpleQueue()
        self._vts: dict[tuple[int, str], float] = {}  # (id(rsmq), queue) -> its fetcher's vt
        self._stop = threading.Event()  # stop receiving (fetchers, workers)
        # The supervisor waits on a self-pipe: any thread (and the signal handler, which
        # must take no lock) wakes it.
        self.waker = Waker()
        self._poke = self.waker.poke
        self._pause = self.waker.pause
        self._stop_requests = 0  # signals; counted by the signal handler, lock-free
        self._stop_reason: str | None = None  # a stop asked for from inside
        self._exit_code = ExitCode.OK  # what a stop from inside exits with
        self._dead: list[str] = []  # threads that died
        self._received = 0
        self._count_lock = threading.Lock()
        self._last_activity = time.monotonic()
        self._last_settled = 0.0
        self._busy = 0  # workers between taking a message and settling it
        self._settled = threading.Condition()  # notified when a message settles or on stop
        self.handlers: dict[str, Handler] = {}
        self.fetchers: list[Fetcher] = []
        self.workers: list[threading.Thread] = []
        self.presence: Presence | None = None
        # RSMQ["SCHEDULE"]'s periodic messages (docs/periodic.md); --no-schedule: off
        self.scheduler = Scheduler(self.name) if schedule and entries() else None
        self.inline = False  # set by setup()
        self.state = "starting"

    # -- output -------------------------------------------------------------------------

    @staticmethod
    def _stdout(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def write(self, line: str) -> None:
        with self._write_lock:
            self._write(line)

    def say(self, line: str, level: int = 1) -> None:
        if self.verbosity >= level:
            self.write(line)

    # -- setup --------------------------------------------------------------------------

    def resolve_queues(self) -> list[str]:
        return resolve_queues(self.requested, self.exclude)

    def setup(self) -> None:
        """Resolve queues and handlers, connect, create missing queues, plan fetchers."""
        cfg = rsmq_settings()
        names = self.resolve_queues()
        self.handlers = {q: registry.all()[q] for q in names}
        groups = fetch_groups(names, self.handlers)
        for (alias, vt, serializer), qnames in groups.items():
            for qname in qnames:
                self._vts[(id(get_rsmq(alias)), qname)] = vt
            self.fetchers.append(
                Fetcher(
                    get_rsmq(alias),
                    qnames,
                    vt=vt,
                    serializer=get_serializer(serializer),
                    slots=self.slots,
                    deliver=self._deliver_many,
                    wait=self.wait,
                    stop=self._stop,
                    budget=self._budget,
                    on_empty=self._on_empty,
                    order=self.order.picker(qnames),
                )
            )
        # One worker, nothing prefetched, one fetcher: the fetcher's thread runs the
        # handler itself (no hand-off to a worker thread and back per message).
        self.inline = self.concurrency == 1 and self.prefetch == 0 and len(self.fetchers) == 1
        self.presence = Presence(
            self.name,
            [get_rsmq(alias) for alias, _, _ in groups],
            names,
            interval=cfg.consumer.heartbeat_interval,
            ttl=cfg.consumer.registry_ttl,
            status=self._status,
            counts=self.counters.history,
            history_queues={q: get_rsmq(g[0]) for g, qs in groups.items() for q in qs},
        )

    def _status(self) -> dict[str, Any]:
        return {"state": self.state, **self.counters.snapshot()}

    # -- the flow of a message ----------------------------------------------------------

    def _budget(self) -> int:
        if self.max_messages is None:
            return self.slots.size
        with self._count_lock:
            return max(0, self.max_messages - self._received)

    def _deliver(self, rsmq: RSMQ, message: Message, received_at: float) -> None:
        self._last_activity = time.monotonic()
        if self._stop.is_set():
            self._release(rsmq, message)
            self.slots.give()
            return
        try:
            vt = self._vts[(id(rsmq), message.queue)]
            handler = self.handlers[message.queue]
            if vt and vt > 0:
                self.keeper.track(rsmq, message, vt, received_at)
        except Exception as exc:  # a bug: give the message back rather than strand it
            log.error("Cannot deliver %s: %s", message.receipt, describe(exc), exc_info=exc)
            self._release(rsmq, message)
            self.slots.give()
            return
        with self._count_lock:
            self._received += 1
        self.work.put((rsmq, message, handler))

    def _deliver_many(self, rsmq: RSMQ, messages: list[Message], received_at: float) -> None:
        """The messages of one receive: tracked by the keeper together, then queued for
        the workers (or, inline, handled here one after the other)."""
        self._last_activity = time.monotonic()
        if self._stop.is_set():
            for message in messages:
                self._release(rsmq, message)
            self.slots.give(len(messages))
            return
        items: list[tuple[RSMQ, Message, Handler]] = []
        try:
            hidden: dict[float, list[Message]] = {}
            for message in messages:
                vt = self._vts[(id(rsmq), message.queue)]
                items.append((rsmq, message, self.handlers[message.queue]))
                if vt and vt > 0:
                    hidden.setdefault(vt, []).append(message)
            for vt, held in hidden.items():
                self.keeper.track_many(rsmq, held, vt, received_at)
        except Exception:  # a bug: one message at a time, each given back if it fails
            for message in messages:
                self._deliver(rsmq, message, received_at)
            return
        with self._count_lock:
            self._received += len(items)
        if self.inline:
            for item in items:
                self._work_on(*item)
            return
        put = self.work.put
        for item in items:
            put(item)

    def _in_flight(self) -> bool:
        # A handled message stays tracked by the keeper until its batched ack applied.
        return bool(self._busy or self.keeper.held() or not self.work.empty())

    def _on_empty(self, fetcher: Fetcher) -> None:
        """A fetcher found nothing. Under --burst it looks without waiting, so rather
        than looking again at once while handlers run, it waits (bounded) until one of
        them settles (a failure may make a retry visible) or nothing is in flight."""
        self._poke()
        if not self.burst:
            return
        with self._settled:
            self._settled.wait_for(
                lambda: (
                    self._stop.is_set()
                    or self._last_settled >= fetcher.last_empty_at
                    or not self._in_flight()
                ),
                timeout=1.0,
            )

    def _notify_settled(self) -> None:
        with self._settled:
            self._settled.notify_all()

    def _after_settle(self) -> None:
        """A message settled: wake whoever waits for that (only --burst and
        --max-messages decide anything on it; the supervisor's tick sees the rest)."""
        self._last_activity = self._last_settled = time.monotonic()
        if self.burst:
            self._poke()
            self._notify_settled()
        elif self.max_messages is not None and self.counters.total >= self.max_messages:
            self._poke()

    def _settled_ack(self, settled: list[tuple[Message, Result]]) -> None:
        """A batched ack was applied (or failed): its messages leave our hands."""
        for message, result in settled:
            if result.status in ("lost", "unsettled", "snoozed"):
                self.counters.forget(message)
        self.keeper.untrack_many([message for message, _ in settled])
        self._after_settle()

    def _release(self, rsmq: RSMQ, message: Message) -> None:
        """Make an unstarted message visible again at once."""
        self.keeper.untrack(message)
        release_message(rsmq, message)

    def _work(self) -> None:
        try:
            while True:
                item = self.work.get()
                if item is None:
                    return
                self._work_on(*item)
        finally:
            self._poke()  # the supervisor sees a worker that ended (or died) at once

    def _work_on(self, rsmq: RSMQ, message: Message, handler: Handler) -> None:
        if self._stop.is_set():
            self._release(rsmq, message)
            self.slots.give()
            return
        with self._count_lock:
            self._busy += 1
        settling = False
        try:
            result = self.processor.handle(message, handler, rsmq)
            settling = result.status == "settling"  # the settler untracks it once acked
            if result.status in ("lost", "unsettled", "snoozed"):
                self.counters.forget(message)
        except (SystemExit, KeyboardInterrupt) as exc:  # its failure is recorded
            self.counters.forget(message)
            self._handler_exit(message, exc)
        except BaseException as exc:  # whatever it is, this worker goes on
            log.error(
                "Unexpected error handling %s: %s",
                message.receipt,
                describe(exc),
                exc_info=None if expected(exc) else exc,
            )
            self.counters.forget(message)
        finally:
            with self._count_lock:
                self._busy -= 1
            self.slots.give()
            if not settling:
                self.keeper.untrack(message)
                self._after_settle()

    def _handler_exit(self, message: Message, exc: BaseException) -> None:
        """A handler raised SystemExit/KeyboardInterrupt: its message failed (recorded
        like any failure); the consumer stops warm, as it was asked to."""
        log.error("Handler of %s raised %s: stopping the consumer", message.receipt, describe(exc))
        self._stop_from_inside(f"a handler raised {type(exc).__name__}", ExitCode.HANDLER_EXIT)

    def _stop_from_inside(self, reason: str, code: ExitCode) -> None:
        if self._stop_reason is None:
            self._stop_reason, self._exit_code = reason, code
        self._stop.set()  # receive no more (never called from a signal handler)
        self._poke()

    def _cold(self) -> bool:
        return self._stop_requests >= 2

    def _dead_threads(self) -> list[str]:
        threads: list[Any] = [*self.fetchers, *self.workers, self.keeper, self.settler]
        threads += [self.presence, self.scheduler, self.loop if self.loop.started else None]
        return [t.name for t in threads if t is not None and not t.is_alive()]

    # -- lifecycle ----------------------------------------------------------------------

    def request_stop(self) -> None:
        """First call: warm stop. Second call: cold stop.

        Safe in a signal handler: it takes no lock, it counts the request and wakes the
        supervising thread, which does the stopping."""
        self._stop_requests += 1
        self._poke()

    def _burst_done(self) -> bool:
        # A message is either tracked by the keeper (received, not yet settling), in a
        # worker (``_busy``: the keeper lets go before the ack/fail, which may make a
        # retry visible) or settled before the fetchers' last empty look.
        if not self.burst or self._in_flight():
            return False
        return all(f.last_empty_at > self._last_settled for f in self.fetchers)

    def _should_stop(self) -> str | None:
        if self._stop_requests:
            return "signal"
        if self._stop_reason is not None:
            return self._stop_reason
        dead = self._dead_threads()
        if dead:
            self._dead = dead
            log.critical("Consumer thread(s) died: %s; stopping", ", ".join(dead))
            return f"thread(s) died: {', '.join(dead)}"
        if self._stop.is_set():
            return "stop"
        if self.max_messages is not None and self.counters.total >= self.max_messages:
            return f"--max-messages {self.max_messages} reached"
        if self._burst_done():
            return "--burst: queues drained"
        if (
            self.max_idle_time is not None
            and not self.keeper.held()
            and self.work.empty()
            and time.monotonic() - self._last_activity >= self.max_idle_time
        ):
            return f"--max-idle-time {self.max_idle_time:g}s reached"
        return None

    def run(self) -> int:
        """Consume until a stop condition; returns the exit code."""
        try:
            return self._run()
        finally:
            self.waker.close()

    def _run(self) -> int:
        try:
            self.setup()
        except ConsumerError as exc:
            self.write(f"rsmq_consume: {exc}")
            return int(exc.exit_code)
        except ImproperlyConfigured as exc:
            self.write(f"rsmq_consume: {exc}")
            return int(ExitCode.CONFIG_ERROR)
        assert self.presence is not None
        if any(h.is_async for h in self.handlers.values()):
            self.loop.start()
        self.keeper.on_exit = self.presence.on_exit = self._poke
        self.keeper.start()
        if self.settler is not None:
            self.settler.on_exit = self._poke
            self.settler.start()
        self.workers = [
            threading.Thread(target=self._work, name=f"rsmq-worker-{i}", daemon=True)
            for i in range(0 if self.inline else self.concurrency)
        ]
        for t in self.workers:
            t.start()
        self.state = "running"
        self.presence.beat()
        self.presence.start()
        if self.scheduler is not None:
            self.scheduler.on_exit = self._poke
            self.scheduler.start()
        self._last_activity = time.monotonic()
        order = self.order.describe(list(self.handlers))
        self.say(
            f"rsmq consumer {self.name} started: queues {', '.join(self.handlers)}"
            f"{f' ({order})' if order else ''}; "
            f"concurrency {self.concurrency}, prefetch {self.prefetch}"
        )
        for q, h in self.handlers.items():
            self.say(f"  {q} -> {h.name}{' (async)' if h.is_async else ''}", 2)
        signals.consumer_started.send(sender=Consumer, consumer=self)
        for f in self.fetchers:  # receiving starts after consumer_started
            f.on_exit = self._poke
            f.start()
        reason = None
        while reason is None:
            self._pause(0.5)
            if self.verbosity >= 1:
                self.progress.tick()
            reason = self._should_stop()
        return self._shutdown(reason)

    def _wait_until(self, done: Callable[[], bool], timeout: float) -> None:
        """Wait (woken by pokes) until ``done()``, a cold stop or ``timeout``."""
        deadline = time.monotonic() + timeout
        while not done() and not self._cold():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._pause(min(left, 0.5))

    def _shutdown(self, reason: str) -> int:
        self.state = "stopping"
        self._stop.set()
        self._notify_settled()
        cold = self._cold()
        self.say(f"stopping ({reason})" + ("" if cold else ": finishing in-flight messages"))
        signals.consumer_stopping.send(sender=Consumer, consumer=self, cold=cold)
        assert self.presence is not None
        self.presence.beat()
        # Warm: a fetcher in its long poll may still receive; wait for it (at most
        # WAIT + 1 s) so what it gets is given back below. Cold: do not wait (what it
        # receives after we exit comes back after its visibility timeout).
        # Inline, the fetcher is the worker: it may be in a handler (shutdown_timeout).
        grace = self.wait + 1.0 + (self.shutdown_timeout if self.inline else 0.0)
        self._wait_until(lambda: not any(f.is_alive() for f in self.fetchers), grace)
        self._release_prefetched()
        for _ in self.workers:
            self.work.put(None)
        self._wait_until(lambda: not any(t.is_alive() for t in self.workers), self.shutdown_timeout)
        self._release_prefetched()  # taken by a fetcher that ended meanwhile
        with self._count_lock:
            cut_off = self._busy
        unacked = 0
        if self.settler is not None:
            unacked = self.settler.finish(bool(cut_off) or self._cold(), self.shutdown_timeout)
        code = self._exit_code
        if self._dead:
            code = ExitCode.THREAD_DIED
        elif cut_off or unacked:
            code = ExitCode.COLD_STOP
        if cut_off:
            self.say(
                f"cold stop: {cut_off} message(s) still being handled will be delivered "
                "again after their visibility timeout"
            )
        if unacked:
            self.say(
                f"cold stop: {unacked} handled message(s) not acked yet will be delivered "
                "again after their visibility timeout"
            )
        self.keeper.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        self.presence.stop()
        self.presence.remove()
        self.loop.stop()
        self.state = "stopped"
        snap = self.counters.snapshot()
        self.say(
            f"stopped (exit code {int(code)}): processed {snap['processed']}, "
            f"failed {snap['failed']}"
        )
        signals.consumer_stopped.send(sender=Consumer, consumer=self, exit_code=int(code))
        return int(code)

    def _release_prefetched(self) -> None:
        """Unstarted prefetched messages go back at once."""
        while True:
            try:
                item = self.work.get_nowait()
            except queue_mod.Empty:
                return
            if item is None:
                continue
            self._release(item[0], item[1])
            self.slots.give()
