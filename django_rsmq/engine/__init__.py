"""django-rsmq's queue engine: RSMQ-compatible queues on Redis, with no Django imports."""

from .aio import AsyncQueue, AsyncRSMQ
from .errors import (
    BodyDecodeError,
    InvalidName,
    InvalidValue,
    MessageNotFound,
    MessageTooLong,
    NoAttributeSupplied,
    QueueExists,
    QueueFull,
    QueueNotFound,
    ReplyLost,
    RSMQError,
    SendNotConfirmed,
    SerializationError,
    StaleReceipt,
    WriteRefused,
)
from .keys import Keys
from .message import Message, PeekedMessage, QueueAttributes, Receipt, Received
from .protocol import BATCH_MAX, Entry, Outcome
from .queue import RSMQ, Queue
from .ratelimit import RateLimit
from .reliability import (
    UNSET,
    DeadLetterInfo,
    FailedRecord,
    FailResult,
    Page,
    RedriveResult,
)
from .retry import RetryPolicy
from .serializers import Serializer, get_serializer

__all__ = [
    "BATCH_MAX",
    "RSMQ",
    "UNSET",
    "AsyncQueue",
    "AsyncRSMQ",
    "BodyDecodeError",
    "DeadLetterInfo",
    "Entry",
    "FailResult",
    "FailedRecord",
    "InvalidName",
    "InvalidValue",
    "Keys",
    "Message",
    "MessageNotFound",
    "MessageTooLong",
    "NoAttributeSupplied",
    "Outcome",
    "Page",
    "PeekedMessage",
    "Queue",
    "QueueAttributes",
    "QueueExists",
    "QueueFull",
    "QueueNotFound",
    "RSMQError",
    "RateLimit",
    "Receipt",
    "Received",
    "RedriveResult",
    "ReplyLost",
    "RetryPolicy",
    "SendNotConfirmed",
    "SerializationError",
    "Serializer",
    "StaleReceipt",
    "WriteRefused",
    "get_serializer",
]
