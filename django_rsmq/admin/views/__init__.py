"""The RSMQ admin pages (one module per page)."""

from .api import MetricsView, StatsJsonView
from .consumers import ConsumersView, ForgetStaleConsumersView
from .controls import PauseQueueView
from .dashboard import DashboardView
from .message import MessageActionView, MessageView
from .queue import PurgeQueueView, QueueLinkView, QueueView
from .record import RecordView
from .records import RecordsAllView, RecordsView
from .schedules import RunScheduleView, SchedulesView

__all__ = [
    "ConsumersView",
    "DashboardView",
    "ForgetStaleConsumersView",
    "MessageActionView",
    "MessageView",
    "MetricsView",
    "PauseQueueView",
    "PurgeQueueView",
    "QueueLinkView",
    "QueueView",
    "RecordView",
    "RecordsAllView",
    "RecordsView",
    "RunScheduleView",
    "SchedulesView",
    "StatsJsonView",
]
