"""Handling one message: decode → hooks.received → handler → ack, or fail → retry/DLQ.

:class:`MessageProcessor` is shared by the consumer, ``drain()`` and eager mode, so
a message is handled the same way everywhere.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from asgiref.sync import async_to_sync
from django.db import close_old_connections

from ..conf import rsmq_settings
from ..engine import RSMQ, Message
from ..engine.errors import BodyDecodeError, MessageNotFound, StaleReceipt
from ..engine.protocol.reliability import FailThen
from ..handlers import Handler
from ..outcomes import DeadLetter, Discard, Outcome, Retry, Snooze
from .failure import fail_message
from .hooks import Hooks
from .trouble import describe, expected

__all__ = ["AsyncRunner", "MessageProcessor", "Result"]

log = logging.getLogger("django_rsmq.consumer")

AsyncRunner = Callable[[Callable[[Message], Awaitable[Any]], Message], Any]
# "lost": the receipt was stale (someone else owns the message now); "unsettled": the
# ack or failure could not be written (Redis unreachable, OOM, ...), the message is
# delivered again after its visibility timeout.
# "settling": handed to the consumer's batched settle (the outcome comes with its flush).
# "snoozed" / "discarded": the handler raised Snooze / Discard (django_rsmq/outcomes.py).
Status = Literal[
    "processed",
    "failed",
    "dead_lettered",
    "lost",
    "unsettled",
    "settling",
    "snoozed",
    "discarded",
]


@dataclass(frozen=True, slots=True)
class Result:
    status: Status
    duration: float = 0.0
    exception: BaseException | None = None
    retry_in: float | None = None


def _uses_a_database() -> bool:
    """Whether settings.DATABASES names a real database (not none / the dummy one)."""
    from django.conf import settings

    return any(
        db.get("ENGINE", "django.db.backends.dummy") != "django.db.backends.dummy"
        for db in getattr(settings, "DATABASES", {}).values()
    )


def _run_with_async_to_sync(func: Callable[[Message], Awaitable[Any]], message: Message) -> Any:
    return async_to_sync(func)(message)


class MessageProcessor:
    """Runs handlers and settles their messages.

    ``rsmq=None`` (eager mode) settles nothing and re-raises the handler's exception
    after the hooks saw it. ``manage_db_connections`` wraps each handler call in
    ``close_old_connections()`` (the consumer; not eager mode or tests) when a real
    database is configured. ``settle`` (the consumer's batched settle) takes the ack
    of a handled message instead of :meth:`handle` making it.

    A hook moment that no hook overrides costs nothing, and :class:`SignalHooks`
    skips a signal nobody is connected to.
    """

    def __init__(
        self,
        hooks: Sequence[Hooks],
        *,
        run_async: AsyncRunner | None = None,
        manage_db_connections: bool = False,
        settle: Callable[[RSMQ, Message, float], None] | None = None,
    ) -> None:
        self.hooks = list(hooks)
        self.run_async = run_async or _run_with_async_to_sync
        self.manage_db_connections = manage_db_connections and _uses_a_database()
        self.settle = settle
        self._async: dict[Any, bool] = {}  # handler function -> is it async
        # Per moment, the hooks that do something at it (a base-class no-op is skipped).
        self._at: dict[str, list[tuple[Hooks, Callable[..., None]]]] = {
            moment: [
                (hook, getattr(hook, moment))
                for hook in self.hooks
                if getattr(type(hook), moment, None) is not getattr(Hooks, moment)
            ]
            for moment in ("received", "processed", "failed", "dead_lettered")
        }

    def _emit(self, moment: str, *args: Any) -> None:
        for hook, call in self._at[moment]:
            try:
                call(*args)
            except Exception:
                log.exception("rsmq hook %r failed at %s", hook, moment)

    def _call(self, handler: Handler, message: Message) -> None:
        if self.manage_db_connections:
            close_old_connections()
        is_async = self._async.get(handler.func)
        if is_async is None:  # inspect per function, not per message
            is_async = self._async[handler.func] = handler.is_async
        try:
            if is_async:
                self.run_async(handler.func, message)
            else:
                handler.func(message)
        finally:
            if self.manage_db_connections:
                close_old_connections()

    def handle(self, message: Message, handler: Handler, rsmq: RSMQ | None) -> Result:
        started = time.monotonic()
        try:
            message.body  # noqa: B018 - decode now: an undecodable body is a failure
        except BodyDecodeError as exc:
            log.error("Undecodable body of %s: %s", message.receipt or message.id, exc)
            self._emit("received", message)
            return self._failed(message, rsmq, exc, traceback.format_exc(), started)
        self._emit("received", message)
        try:
            self._call(handler, message)
        except Outcome as outcome:  # the handler said what happens to its message
            return self._outcome(message, handler, rsmq, outcome, started)
        except BaseException as exc:  # SystemExit & co. too: the message failed
            tb = traceback.format_exc()
            log.info("Handler %s failed on %s: %s", handler.name, message.receipt, describe(exc))
            result = self._failed(message, rsmq, exc, tb, started)
            if isinstance(exc, SystemExit | KeyboardInterrupt):
                raise  # recorded as a failure; now the caller stops, as it was asked to
            return result
        duration = time.monotonic() - started
        if rsmq is None:
            return self.acked(message, duration, None)
        if self.settle is not None:
            self.settle(rsmq, message, duration)  # acked (and reported) with the next flush
            return Result("settling", duration)
        try:
            rsmq.ack(message.receipt)
        except Exception as exc:
            return self.acked(message, duration, exc)
        return self.acked(message, duration, None)

    def acked(self, message: Message, duration: float, error: Exception | None) -> Result:
        """The outcome of acking a handled message: ``error`` is the ack's exception."""
        if error is None:
            self._emit("processed", message, duration)
            return Result("processed", duration)
        if isinstance(error, StaleReceipt | MessageNotFound):
            log.warning(
                "Handled %s but could not ack it (%s): it ran past its visibility "
                "timeout and will be (or was) delivered again",
                message.receipt,
                describe(error),
            )
            return Result("lost", duration, error)
        if not expected(error):
            raise error
        log.warning(
            "Handled %s but could not ack it (%s): it will be delivered again "
            "after its visibility timeout",
            message.receipt,
            describe(error),
        )
        return Result("unsettled", duration, error)

    def _outcome(
        self,
        message: Message,
        handler: Handler,
        rsmq: RSMQ | None,
        outcome: Outcome,
        started: float,
    ) -> Result:
        """A raised :class:`Outcome`: Snooze gives the message back with no failure;
        Retry, DeadLetter and Discard are failures recorded with their effect.

        Eager mode (``rsmq=None``): a Discard is dropped quietly (``message_failed``
        with ``will_retry=False``, not raised); the others reach the caller as any
        exception does (nothing retries, snoozes or stores in eager mode)."""
        log.info("Handler %s on %s: %s", handler.name, message.receipt, describe(outcome))
        if isinstance(outcome, Snooze):
            duration = time.monotonic() - started
            if rsmq is None:
                raise outcome
            try:
                rsmq.nack(message.receipt, outcome.delay)
            except (StaleReceipt, MessageNotFound) as lost:
                log.warning("Could not snooze %s: %s", message.receipt, lost)
                return Result("lost", duration, outcome)
            except Exception as error:
                if not expected(error):
                    raise
                log.warning(
                    "Could not snooze %s (%s): it will be delivered again after its "
                    "visibility timeout",
                    message.receipt,
                    describe(error),
                )
                return Result("unsettled", duration, outcome)
            return Result("snoozed", duration, outcome, outcome.delay)
        tb = traceback.format_exc()
        if isinstance(outcome, Retry):
            return self._failed(message, rsmq, outcome, tb, started, delay=outcome.delay)
        if isinstance(outcome, DeadLetter):
            return self._failed(message, rsmq, outcome, tb, started, then="dead_letter")
        if isinstance(outcome, Discard):
            if rsmq is None:  # eager: dropped, as asked
                self._emit("failed", message, outcome, False)
                return Result("discarded", time.monotonic() - started, outcome)
            return self._failed(message, rsmq, outcome, tb, started, then="discard")
        return self._failed(message, rsmq, outcome, tb, started)  # a subclass of our own

    def _failed(
        self,
        message: Message,
        rsmq: RSMQ | None,
        exc: BaseException,
        tb: str,
        started: float,
        *,
        delay: float | None = None,
        then: FailThen = "retry",
    ) -> Result:
        duration = time.monotonic() - started
        if rsmq is None:  # eager: the caller sees the exception
            self._emit("failed", message, exc, False)
            raise exc
        try:
            outcome = fail_message(rsmq, message, exc, tb, delay=delay, then=then)
        except Exception as error:
            if not expected(error):
                raise
            log.warning(
                "Could not record the failure of %s (%s): it will be delivered again "
                "after its visibility timeout",
                message.receipt,
                describe(error),
            )
            return Result("unsettled", duration, exc)
        if outcome.lost:
            return Result("lost", duration, exc)
        self._emit("failed", message, exc, outcome.will_retry)
        if outcome.discarded:
            return Result("discarded", duration, exc)
        if outcome.dead_lettered:
            self._emit("dead_lettered", message, rsmq_settings().queue(message.queue).dlq)
            return Result("dead_lettered", duration, exc)
        return Result("failed", duration, exc, outcome.retry_in)
