"""The one hook point around handling a message.

:class:`~django_rsmq.consumer.processing.MessageProcessor` calls every hook of its
:class:`Hooks` list at the same four moments; Django signals (:class:`SignalHooks`),
the consumer's counters (:class:`Counters`) and later metrics hang off here, never
off the worker loop itself.
"""

from __future__ import annotations

import threading
from typing import Any

from .. import signals
from ..engine.history import DurationCounts
from ..engine.message import Message

__all__ = ["Counters", "Hooks", "SignalHooks"]


class Hooks:
    """Base class: override the moments you care about. Hooks must not raise."""

    def received(self, message: Message) -> None:
        """Before the handler runs."""

    def processed(self, message: Message, duration: float) -> None:
        """The handler returned and the message was acked (the consumer: once the
        batched ack's reply came back)."""

    def failed(self, message: Message, exception: BaseException, will_retry: bool) -> None:
        """The handler raised (or the body could not be decoded) and the failure was
        recorded; ``will_retry`` is ``False`` when the message was dead-lettered or dropped."""

    def dead_lettered(self, message: Message, dead_letter_queue: str | None) -> None:
        """The failure moved the message to its dead-letter queue."""


class SignalHooks(Hooks):
    """Sends the ``message_*`` Django signals (sender = queue name); a signal nobody
    is connected to is skipped before its arguments are even built."""

    def received(self, message: Message) -> None:
        if signals.message_received.receivers:
            signals.message_received.send(sender=message.queue, message=message)

    def processed(self, message: Message, duration: float) -> None:
        if signals.message_processed.receivers:
            signals.message_processed.send(sender=message.queue, message=message, duration=duration)

    def failed(self, message: Message, exception: BaseException, will_retry: bool) -> None:
        if signals.message_failed.receivers:
            signals.message_failed.send(
                sender=message.queue,
                message=message,
                exception=exception,
                rc=message.rc,
                will_retry=will_retry,
            )

    def dead_lettered(self, message: Message, dead_letter_queue: str | None) -> None:
        if signals.message_dead_lettered.receivers:
            signals.message_dead_lettered.send(
                sender=message.queue, message=message, dead_letter_queue=dead_letter_queue
            )


class Counters(Hooks):
    """Processed / failed counts and the messages being handled right now; per queue,
    acks with their handler durations, failures and dead-letterings for the metrics
    history (``history``, written to Redis by the heartbeat thread, never per message)."""

    def __init__(self) -> None:
        self.history = DurationCounts()
        self._lock = threading.Lock()
        self.processed_count = 0
        self.failed_count = 0
        self._current: dict[str, Message] = {}

    def received(self, message: Message) -> None:
        with self._lock:
            self._current[message.receipt or message.id] = message

    def _done(self, message: Message) -> None:
        self._current.pop(message.receipt or message.id, None)

    def processed(self, message: Message, duration: float) -> None:
        with self._lock:
            self.processed_count += 1
            self._done(message)
        self.history.acked(message.queue, duration)

    def failed(self, message: Message, exception: BaseException, will_retry: bool) -> None:
        with self._lock:
            self.failed_count += 1
            self._done(message)
        self.history.failed(message.queue)

    def dead_lettered(self, message: Message, dead_letter_queue: str | None) -> None:
        self.history.dead(message.queue)

    def forget(self, message: Message) -> None:
        """The message left our hands without an outcome (stale receipt, cold stop)."""
        with self._lock:
            self._done(message)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "processed": self.processed_count,
                "failed": self.failed_count,
                "current": [m.id for m in self._current.values()],
            }

    @property
    def total(self) -> int:
        with self._lock:
            return self.processed_count + self.failed_count
