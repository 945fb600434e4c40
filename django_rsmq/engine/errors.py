"""Typed exceptions raised by the engine.

Every error derives from :class:`RSMQError`. Each carries ``code``, the name
Node ``rsmq`` gives the same condition (``queueNotFound``, ``invalidValue``, …)
so logs read the same across implementations.
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

__all__ = [
    "BodyDecodeError",
    "InvalidName",
    "InvalidValue",
    "MessageNotFound",
    "MessageTooLong",
    "NoAttributeSupplied",
    "QueueExists",
    "QueueFull",
    "QueueNotFound",
    "RSMQError",
    "ReplyLost",
    "SendNotConfirmed",
    "SerializationError",
    "StaleReceipt",
    "WriteRefused",
]


class RSMQError(Exception):
    """Base class of every django-rsmq engine error."""

    code: str = "rsmqError"


class InvalidName(RSMQError, ValueError):
    """A queue name or message id does not match the allowed format."""

    code = "invalidFormat"


class InvalidValue(RSMQError, ValueError):
    """A numeric parameter is missing, of the wrong type or out of range."""

    code = "invalidValue"


class NoAttributeSupplied(InvalidValue):
    """set_queue_attributes() was called without any attribute."""

    code = "noAttributeSupplied"


class QueueNotFound(RSMQError, LookupError):
    """The queue does not exist (its hash has no ``vt``/``delay``/``maxsize``)."""

    code = "queueNotFound"

    def __init__(self, qname: str) -> None:
        super().__init__(f"Queue not found: {qname!r}")
        self.qname = qname


class QueueExists(RSMQError):
    """create_queue() on a queue that already exists."""

    code = "queueExists"

    def __init__(self, qname: str) -> None:
        super().__init__(f"Queue exists: {qname!r}")
        self.qname = qname


class MessageTooLong(RSMQError, ValueError):
    """The encoded body is longer than the queue's ``maxsize`` (in UTF-8 bytes)."""

    code = "messageTooLong"

    def __init__(self, qname: str, size: int, maxsize: int) -> None:
        super().__init__(
            f"Message too long for queue {qname!r}: {size} bytes, maxsize is {maxsize} "
            "(set maxsize to -1 for no limit)"
        )
        self.qname = qname
        self.size = size
        self.maxsize = maxsize


class QueueFull(RSMQError):
    """The queue holds ``max_messages`` messages already; nothing was enqueued."""

    code = "queueFull"

    def __init__(self, qname: str, max_messages: int) -> None:
        super().__init__(
            f"Queue {qname!r} is full: it holds max_messages={max_messages} messages "
            "(waiting, delayed and in flight); nothing was enqueued"
        )
        self.qname = qname
        self.max_messages = max_messages


class MessageNotFound(RSMQError, LookupError):
    """The message is no longer in the queue (acked, deleted, popped or purged)."""

    code = "messageNotFound"

    def __init__(self, qname: str, message_id: str) -> None:
        super().__init__(f"Message {message_id!r} not found in queue {qname!r}")
        self.qname = qname
        self.message_id = message_id


class StaleReceipt(RSMQError):
    """The receipt belongs to an earlier delivery: the message was received again since.

    The receive count (``rc``) is the fencing token: a receipt is valid while the
    message's ``rc`` still equals the ``rc`` it was issued with.
    """

    code = "staleReceipt"

    def __init__(self, qname: str, message_id: str, receipt_rc: int, current_rc: int) -> None:
        super().__init__(
            f"Stale receipt for message {message_id!r} in queue {qname!r}: issued for "
            f"delivery {receipt_rc}, but the message has since been delivered again "
            f"(now delivery {current_rc}); only the newest receipt can settle it"
        )
        self.qname = qname
        self.message_id = message_id
        self.receipt_rc = receipt_rc
        self.current_rc = current_rc


class WriteRefused(RSMQError, RedisConnectionError):
    """Redis refused the command before running it: ``READONLY`` (the server is a
    replica now: a failover happened), ``NOREPLICAS`` (fewer replicas than the server's
    ``min-replicas-to-write``) or ``LOADING`` (the server is loading its data).

    Nothing was written (a script is refused at its first write, and the engine's
    scripts write nothing before it), so the engine asks Sentinel for the master and
    retries once; this error reaches the caller when the retry is refused too. Retrying
    later is safe. A redis-py ``ConnectionError`` too (as redis-py's Sentinel connection
    reported READONLY), so the client's retry policy applies to commands of your own.
    """

    code = "writeRefused"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: Redis refused the command, which did not run ({detail})")
        self.reason = reason


class SendNotConfirmed(RSMQError):
    """A durable send (``durable=N``) was not confirmed by ``N`` replicas in time, or
    its connection failed after the send went out.

    The message may exist anyway: on the master (replicated later, or lost if the
    master crashes first), maybe on the replicas that were slow to confirm.
    ``message_id`` is its id when the send's reply was read (``None`` when the
    connection failed: the send may or may not have run). To make sure it is
    delivered, send it again with the same ``dedup_id`` (a duplicate within the
    queue's dedup window is dropped); otherwise treat it like a failed send.
    """

    code = "sendNotConfirmed"

    def __init__(
        self, message_id: str | None, wanted: int, confirmed: int, detail: str = ""
    ) -> None:
        what = f"message {message_id}" if message_id else "the send (it may have run)"
        extra = f": {detail}" if detail else ""
        super().__init__(
            f"Durable send not confirmed: {what} reached {confirmed} of {wanted} replicas{extra}"
        )
        self.message_id = message_id
        self.wanted = wanted
        self.confirmed = confirmed


class SerializationError(RSMQError, TypeError):
    """A value could not be encoded by the queue's serializer."""

    code = "messageNotString"


class BodyDecodeError(RSMQError, ValueError):
    """A message body could not be decoded. ``raw`` holds the body as stored in Redis.

    Nothing is dropped: the message stays in the queue (hidden for its visibility
    timeout when it came from ``receive``) and ``message_id``/``receipt`` let the
    caller delete, fail or dead-letter it.
    """

    code = "undecodableBody"

    def __init__(
        self,
        reason: str,
        raw: str | bytes,
        *,
        qname: str | None = None,
        message_id: str | None = None,
        receipt: str | None = None,
    ) -> None:
        where = f" (message {message_id!r} in queue {qname!r})" if message_id else ""
        super().__init__(f"Undecodable message body{where}: {reason}")
        self.raw = raw
        self.qname = qname
        self.message_id = message_id
        self.receipt = receipt

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_decode_error,
            (str(self), self.raw, self.qname, self.message_id, self.receipt),
        )


def _rebuild_decode_error(
    text: str, raw: str | bytes, qname: str | None, message_id: str | None, receipt: str | None
) -> BodyDecodeError:
    err = BodyDecodeError("", raw, qname=qname, message_id=message_id, receipt=receipt)
    err.args = (text,)
    return err


class ReplyLost(RSMQError, RedisConnectionError):
    """The command reached Redis but its reply was lost (connection cut or timed out
    while reading it): the operation may or may not have been applied.

    Raised only for operations that are not safe to run twice (``receive``, ``pop``,
    ``fail``, ``nack``, ``change_visibility``, redrives, queue management …); the
    engine never replays them. Replay-safe ones (``send``, ``ack``, ``delete``, reads)
    are retried instead. ``operation`` names the script (``"receive"``). A subclass of
    redis-py's ``ConnectionError``, so code that handles an outage handles this too.
    See docs/reliability.md, "Which operations retry".
    """

    code = "replyLost"

    def __init__(self, operation: str, detail: str = "") -> None:
        text = f"Reply to {operation!r} lost: it may or may not have been applied"
        super().__init__(f"{text} ({detail})" if detail else text)
        self.operation = operation
        self.detail = detail

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.operation, self.detail))
