"""The worker loop behind ``manage.py rsmq_consume``."""

from .hooks import Counters, Hooks, SignalHooks
from .processing import MessageProcessor, Result
from .worker import Consumer, ConsumerError, ExitCode

__all__ = [
    "Consumer",
    "ConsumerError",
    "Counters",
    "ExitCode",
    "Hooks",
    "MessageProcessor",
    "Result",
    "SignalHooks",
]
