"""The RSMQ admin pages (one module per page)."""

from .api import MetricsView, StatsJsonView
from .consumers import ConsumersView, ForgetStaleConsumersView
from .dashboard import DashboardView
from .message import MessageActionView, MessageView
from .queue import PurgeQueueView, QueueView
from .records import RecordsAllView, RecordsView

__all__ = [
    "ConsumersView",
    "DashboardView",
    "ForgetStaleConsumersView",
    "MessageActionView",
    "MessageView",
    "MetricsView",
    "PurgeQueueView",
    "QueueView",
    "RecordsAllView",
    "RecordsView",
    "StatsJsonView",
]
