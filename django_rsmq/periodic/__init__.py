"""Periodic messages: ``RSMQ["SCHEDULE"]`` entries sent by any running ``rsmq_consume``,
each tick exactly once (docs/periodic.md)."""

from __future__ import annotations

from .entries import Entry, ScheduleError, entries
from .status import EntryStatus, status
from .ticker import Ticker, run_now

__all__ = ["Entry", "EntryStatus", "ScheduleError", "Ticker", "entries", "run_now", "status"]
