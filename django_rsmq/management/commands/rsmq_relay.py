"""``manage.py rsmq_relay [--database DB ...] [--once] [--check]``: relay the outbox."""

from __future__ import annotations

import signal
import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from ...checks import TAG
from ...conf import rsmq_settings
from ..arguments import one_line_errors
from ..output import command_errors


class Command(BaseCommand):
    help = (
        "Move committed rows of the transactional outbox to Redis, each exactly once, "
        "until SIGTERM/SIGINT (several relays may run at once; docs/outbox.md)."
    )
    requires_system_checks = [TAG]

    def add_arguments(self, parser: ArgumentParser) -> None:
        one_line_errors(parser)
        parser.add_argument(
            "--database",
            action="append",
            dest="databases",
            metavar="DB",
            help="database alias to relay (repeatable; default RSMQ['OUTBOX']['DATABASES'])",
        )
        parser.add_argument(
            "--once", action="store_true", help="relay what is committed now, then exit"
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="probe: reach the database(s) and Redis, print the outbox depth, exit "
            "(1 when either is unreachable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from ...outbox.backlog import backlog
        from ...outbox.relay import Relay

        databases = options["databases"] or list(rsmq_settings().outbox.databases)
        with command_errors(), _db_errors():
            relays = [Relay(d) for d in databases]
            if options["check"]:
                for r in relays:
                    r.home.client.ping()
                    b = backlog(r.database)
                    self.stdout.write(
                        f"{r.database}: ok, {b.depth} rows waiting, oldest {b.oldest_age_text}"
                    )
                return
            if options["once"]:
                for r in relays:
                    self.stdout.write(f"{r.database}: relayed {r.drain()} rows")
                return
        self._run(relays)

    def _run(self, relays: list[Any]) -> None:
        def on_signal(signum: int, frame: Any) -> None:
            for r in relays:
                r.stop()

        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, on_signal)
        threads = [
            threading.Thread(target=r.run, name=f"rsmq-relay-{r.database}", daemon=True)
            for r in relays
        ]
        for t in threads:
            t.start()
        names = ", ".join(r.database for r in relays)
        self.stdout.write(f"rsmq_relay: relaying {names} (SIGTERM/SIGINT to stop)")
        self.stdout.flush()
        for t in threads:
            while t.is_alive():
                t.join(0.5)
        total = sum(r.relayed for r in relays)
        self.stdout.write(f"rsmq_relay: stopped, relayed {total} rows")


class _db_errors:
    """Database errors (not migrated, unreachable) as one line, like Redis' errors."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if isinstance(exc, DatabaseError):
            text = " ".join(str(exc).split()) or type(exc).__name__
            raise CommandError(f"Database error: {text}", returncode=1) from exc
