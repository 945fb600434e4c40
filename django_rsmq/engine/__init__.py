"""django-rsmq's queue engine: RSMQ-compatible queues on Redis, with no Django imports."""

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
    RSMQError,
    SerializationError,
    StaleReceipt,
)
from .keys import Keys
from .message import Message, PeekedMessage, QueueAttributes, Receipt
from .queue import RSMQ, Queue
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
    "RSMQ",
    "UNSET",
    "BodyDecodeError",
    "DeadLetterInfo",
    "FailResult",
    "FailedRecord",
    "InvalidName",
    "InvalidValue",
    "Keys",
    "Message",
    "MessageNotFound",
    "MessageTooLong",
    "NoAttributeSupplied",
    "Page",
    "PeekedMessage",
    "Queue",
    "QueueAttributes",
    "QueueExists",
    "QueueFull",
    "QueueNotFound",
    "RSMQError",
    "Receipt",
    "RedriveResult",
    "RetryPolicy",
    "SerializationError",
    "Serializer",
    "StaleReceipt",
    "get_serializer",
]
