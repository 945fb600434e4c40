"""``manage.py rsmq_stats [--json] [--interval S] [--queue Q ...]``."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand

from ...checks import TAG
from ...operations import stats
from ..arguments import one_line_errors
from ..output import as_json, command_errors, table

HEADERS = (
    "QUEUE",
    "VISIBLE",
    "IN-FLIGHT",
    "DELAYED",
    "SENT",
    "RECEIVED",
    "FAILED",
    "DLQ",
    "OLDEST AGE",
    "CONSUMERS",
    "STATE",
)

OUTBOX_HEADERS = ("OUTBOX DATABASE", "ROWS", "OLDEST AGE", "FAILING", "RELAYS")
SCHEDULE_HEADERS = ("PERIODIC", "QUEUE", "SCHEDULE", "NEXT RUN", "LAST RUN")


def _schedule_row(e: Any) -> tuple[Any, ...]:
    return (e.entry.name, e.entry.queue, e.entry.spec, _utc(e.next_run), _utc(e.last_run))


def _utc(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _state(q: stats.QueueStats) -> str | None:
    """``paused`` / ``running`` (and the rate limit and concurrency cap), ``None`` for a
    queue not in Redis."""
    if q.paused is None:
        return None
    state = "paused" if q.paused else "running"
    if q.rate_limit:
        state += f", {q.rate_limit}"
    if q.max_in_flight:
        state += f", max {q.max_in_flight} in flight"
    return state


class Command(BaseCommand):
    help = "Per-queue statistics (same schema as the admin's stats.json with --json)."
    requires_system_checks = [TAG]  # not W018: the command's error says it

    def add_arguments(self, parser: ArgumentParser) -> None:
        one_line_errors(parser)
        parser.add_argument("--json", action="store_true")
        parser.add_argument("-i", "--interval", type=float, help="repeat every S seconds")
        parser.add_argument("--count", type=int, help="with --interval: stop after N reports")
        parser.add_argument("-q", "--queue", action="append", dest="queues", metavar="QUEUE")

    def handle(self, *args: Any, **options: Any) -> None:
        n = 0
        while True:
            with command_errors():
                data = stats.collect(options["queues"])
            self.report(data, json=options["json"])
            n += 1
            if not options["interval"] or (options["count"] and n >= options["count"]):
                return
            time.sleep(options["interval"])

    def report(self, data: stats.Stats, *, json: bool) -> None:
        if json:
            self.stdout.write(as_json(data.as_dict()))
            return
        rows = [
            (
                q.name,
                q.visible,
                q.in_flight,
                q.delayed,
                q.sent,
                q.received,
                q.failed,
                q.dlq,
                q.oldest_age,
                q.consumers,
                _state(q),
            )
            for q in data.queues
        ]
        self.stdout.write(table(HEADERS, rows))
        if data.outbox:
            self.stdout.write("")
            self.stdout.write(
                table(
                    OUTBOX_HEADERS,
                    [(o.database, o.depth, o.oldest_age, o.failing, o.relays) for o in data.outbox],
                )
            )
        if data.schedule:
            self.stdout.write("")
            self.stdout.write(table(SCHEDULE_HEADERS, [_schedule_row(e) for e in data.schedule]))
        self.stdout.flush()
