"""Handler outcomes: exceptions a handler raises to say what happens to its message
besides returning (ack) or failing (the retry policy, then the DLQ). docs/django.md
("Handler outcomes") has their effects on rc, MAX_RECEIVES, failure records and signals.

They are caught only when a handler raises them (consumer/processing.py), so a handler
that returns pays nothing for them.
"""

from __future__ import annotations

from .engine.validation import check_duration

__all__ = ["DeadLetter", "Discard", "Outcome", "Retry", "Snooze"]


class Outcome(Exception):
    """Base class of the handler outcomes (not raised itself). A delay that is not a
    number of seconds in RSMQ's range raises :class:`InvalidValue` where the outcome is
    made, in the handler: an ordinary failure."""

    reason: str

    def __str__(self) -> str:
        return self.reason


class Retry(Outcome):
    """A failure with an explicit back-off: recorded, counts towards MAX_RECEIVES, and
    the message comes back after ``delay`` seconds (the queue's ``RETRY`` policy's
    delay when ``None``)."""

    def __init__(self, delay: float | None = None, reason: str = "") -> None:
        if delay is not None:
            check_duration("Retry delay", delay)  # a bad delay fails here, as the handler's
        super().__init__(delay, reason)
        self.delay = delay
        self.reason = reason or (f"retry in {delay:g}s" if delay is not None else "retry")


class Snooze(Outcome):
    """Not now: the message comes back after ``delay`` seconds, with no failure record
    and no ``message_failed``. The next delivery is a receive like any other (rc + 1),
    so MAX_RECEIVES still bounds a message snoozed forever."""

    def __init__(self, delay: float, reason: str = "") -> None:
        check_duration("Snooze delay", delay)
        super().__init__(delay, reason)
        self.delay = delay
        self.reason = reason or f"snoozed for {delay:g}s"


class DeadLetter(Outcome):
    """Straight to the dead-letter queue, whatever rc (recorded; a queue without a
    DLQ drops the message, as :class:`Discard`)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason or "dead-lettered by its handler"


class Discard(Outcome):
    """Drop the message without retrying it: deleted like an ack, with a failure
    record (``discarded``) so the drop is visible."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason or "discarded by its handler"
