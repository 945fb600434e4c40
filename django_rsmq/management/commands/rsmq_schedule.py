"""``manage.py rsmq_schedule list [--json]`` and ``rsmq_schedule run NAME``."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand

from ...checks import TAG
from ...periodic import run_now, status
from ..arguments import Subcommands
from ..output import as_json, command_errors, table


def _when(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Command(BaseCommand):
    help = "List RSMQ['SCHEDULE']'s periodic messages, or send one now."
    requires_system_checks = [TAG]  # not W018: the command's error says it

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = Subcommands(parser, dest="action", required=True)
        p = sub.add_parser("list", help="entries with their next and last run")
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("run", help="send an entry's message now (outside its ticks)")
        p.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        with command_errors():
            if options["action"] == "run":
                message_id = run_now(options["name"])
                self.stdout.write(f"sent {options['name']} as {message_id}")
                return
            rows = status()
        if options["json"]:
            self.stdout.write(as_json([s.as_dict() for s in rows]))
            return
        if not rows:
            self.stdout.write("no periodic messages (RSMQ['SCHEDULE'] is empty)")
            return
        self.stdout.write(
            table(
                ["NAME", "QUEUE", "SCHEDULE", "MISSED", "NEXT RUN", "LAST RUN"],
                [
                    (
                        s.entry.name,
                        s.entry.queue,
                        s.entry.spec,
                        s.entry.missed,
                        _when(s.next_run),
                        _when(s.last_run),
                    )
                    for s in rows
                ],
            )
        )
