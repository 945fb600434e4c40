"""``manage.py rsmq_consume [queue ...]``: run handlers for queued messages."""

from __future__ import annotations

import sys
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand

from ...consumer import ConsumerError, ExitCode
from ...consumer.prefork import consume, prefork
from ...consumer.selection import parse_queue_spec, queue_order
from ..arguments import one_line_errors


def queue_spec(value: str) -> str:
    """A ``QUEUE`` or ``QUEUE:WEIGHT`` argument, checked here (a one-line usage error)
    and passed on as given (the consumer, and each prefork child, reads it again)."""
    try:
        parse_queue_spec(value)
    except ValueError as exc:
        raise ArgumentTypeError(str(exc)) from None
    return value


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
        parser.add_argument(
            "queues",
            nargs="*",
            metavar="queue[:weight]",
            type=queue_spec,
            help="the queues to consume (default: every declared queue with a handler); "
            "with weights (critical:5 default:2 low:1) each receive starts at a queue "
            "picked with probability weight / sum of the weights (a queue without one "
            "weighs 1); without: round robin",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="look at the queues in the order given, always: a later queue is served "
            "only while the earlier ones have nothing visible (it starves while they have)",
        )
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
        try:  # in this process, once, rather than in each prefork child
            queue_order(options["queues"], strict=options["strict"])
        except ConsumerError as exc:
            write(f"rsmq_consume: {exc}")
            sys.exit(int(exc.exit_code))
        code = consume(options, write) if processes == 1 else prefork(options, processes, write)
        if code:
            sys.exit(code)
