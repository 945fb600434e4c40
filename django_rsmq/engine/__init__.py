"""django-rsmq's queue engine: RSMQ-compatible queues on Redis, with no Django imports."""

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
from .queue import RSMQ, Queue
from .serializers import Serializer, get_serializer

__all__ = [
    "RSMQ",
    "BodyDecodeError",
    "InvalidName",
    "InvalidValue",
    "Keys",
    "Message",
    "MessageNotFound",
    "MessageTooLong",
    "NoAttributeSupplied",
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
