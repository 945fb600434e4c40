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
    QueueNotFound,
    RSMQError,
    SerializationError,
    StaleReceipt,
)
from .keys import Keys
from .message import Message, PeekedMessage, QueueAttributes, Receipt
from .protocol import BATCH_MAX, Entry, Outcome
from .queue import RSMQ, Queue
from .serializers import Serializer, get_serializer

__all__ = [
    "BATCH_MAX",
    "RSMQ",
    "AsyncQueue",
    "AsyncRSMQ",
    "BodyDecodeError",
    "Entry",
    "InvalidName",
    "InvalidValue",
    "Keys",
    "Message",
    "MessageNotFound",
    "MessageTooLong",
    "NoAttributeSupplied",
    "Outcome",
    "PeekedMessage",
    "Queue",
    "QueueAttributes",
    "QueueExists",
    "QueueNotFound",
    "RSMQError",
    "Receipt",
    "SerializationError",
    "Serializer",
    "StaleReceipt",
    "get_serializer",
]
