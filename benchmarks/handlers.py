"""The no-op handler of ``benchmarks.consumer``'s prefork row (its children find it
by autodiscovery: ``benchmarks`` is an installed app in benchmarks/consumer_settings.py)."""

from __future__ import annotations

from django_rsmq import handler
from django_rsmq.engine import Message


@handler("bench")
def noop(message: Message) -> None:
    """Does nothing."""
