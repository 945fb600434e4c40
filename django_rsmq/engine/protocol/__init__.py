"""The engine's core, shared by the sync and asyncio front ends: it validates
arguments, builds script calls and parses replies. It does no I/O.

Each operation returns a :class:`Call`; a front end runs ``call.script`` with
``call.keys``/``call.args`` (EVALSHA, EVAL on NOSCRIPT) and passes the reply to
``call.parse``. Operations live in one mixin per concern.
"""

from .base import (
    BATCH_MAX,
    PEEK_MAX,
    Call,
    CallPlan,
    Entry,
    Outcome,
    ProtocolBase,
    sorted_names,
    to_str,
)
from .fenced import FencedOps
from .messages import MessageOps
from .queues import QueueOps
from .reliability import ReliabilityOps
from .waiting import Due, WaitingOps

__all__ = [
    "BATCH_MAX",
    "PEEK_MAX",
    "Call",
    "CallPlan",
    "Due",
    "Entry",
    "Outcome",
    "Protocol",
    "sorted_names",
    "to_str",
]


class Protocol(QueueOps, MessageOps, FencedOps, ReliabilityOps, WaitingOps, ProtocolBase):
    """Builds calls for one namespace. Front ends hold one and execute what it builds."""
