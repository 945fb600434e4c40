"""``manage.py rsmq_consume [queue ...]``: run handlers for queued messages."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from ...consumer import ExitCode
from ...consumer.prefork import consume, prefork
from ..arguments import one_line_errors


class Command(BaseCommand):
    help = (
        "Consume messages from the named queues (default: every declared queue with a "
        "handler). SIGTERM/SIGINT: warm stop; a second signal: cold stop. Exit codes: "
        "0 clean stop, 1 Redis unreachable, 2 configuration error, 3 cold stop (handlers "
        "cut off), 4 a consumer thread died, 5 a handler raised SystemExit/KeyboardInterrupt."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        one_line_errors(parser)
        parser.add_argument("queues", nargs="*", metavar="queue")
        parser.add_argument(
            "--exclude",
            nargs="+",
            default=[],
            metavar="QUEUE",
            help="consume every selected queue but these",
        )
        parser.add_argument("-c", "--concurrency", type=int, default=1, help="worker threads")
        parser.add_argument(
            "--prefetch",
            type=int,
            default=None,
            help="messages received ahead of free workers (default RSMQ['CONSUMER']"
            "['PREFETCH'], else the concurrency)",
        )
        parser.add_argument("--burst", action="store_true", help="drain the queues, then exit")
        parser.add_argument(
            "--no-schedule",
            dest="schedule",
            action="store_false",
            help="do not send RSMQ['SCHEDULE']'s periodic messages from this consumer",
        )
        parser.add_argument("--max-messages", type=int, help="exit after handling N messages")
        parser.add_argument(
            "--max-idle-time", type=float, help="exit after S seconds without a message"
        )
        parser.add_argument(
            "--shutdown-timeout",
            type=float,
            default=30.0,
            help="seconds in-flight handlers get to finish on a warm stop (default 30)",
        )
        parser.add_argument(
            "--name",
            help="consumer name (default host.pid.random; with --processes N: NAME.1 ... NAME.N)",
        )
        relay = parser.add_mutually_exclusive_group()
        relay.add_argument(
            "--relay",
            action="store_const",
            const=True,
            dest="relay",
            help="run the transactional outbox's relay thread (default: when a queue has "
            "OUTBOX: True, or RSMQ['OUTBOX']['RELAY'])",
        )
        relay.add_argument(
            "--no-relay",
            action="store_const",
            const=False,
            dest="relay",
            help="do not relay the outbox here (run manage.py rsmq_relay instead)",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            metavar="N",
            help="run N consumer processes under this one (prefork; default 1: this process "
            "consumes); each has --concurrency threads",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def write(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        processes = options["processes"]
        if processes < 1:
            write("rsmq_consume: --processes must be at least 1")
            sys.exit(int(ExitCode.CONFIG_ERROR))
        code = consume(options, write) if processes == 1 else prefork(options, processes, write)
        if code:
            sys.exit(code)
