"""``manage.py rsmq_healthcheck``: exit 0 when consumers are alive, else 1."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from dataclasses import replace
from typing import Any

from django.core.management.base import BaseCommand

from ...operations.health import consumer_health, outbox_health
from ..arguments import one_line_errors
from ..output import command_errors


class Command(BaseCommand):
    help = (
        "Exit 0 if a consumer (of --queue, or named --name) sent a heartbeat within "
        "--max-age seconds, else 1. For Kubernetes exec probes."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        one_line_errors(parser)
        parser.add_argument("--queue", help="only consumers of this queue")
        parser.add_argument("--name", help="only the consumer with this name")
        parser.add_argument("--max-age", type=float, default=30.0, help="seconds (default 30)")
        parser.add_argument(
            "--outbox-max-age",
            type=float,
            metavar="S",
            help="also fail when no outbox relay runs or an outbox row is older than S "
            "seconds (the transactional outbox)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with command_errors():
            health = consumer_health(
                queue=options["queue"], name=options["name"], max_age=options["max_age"]
            )
            if health.ok and options["outbox_max_age"] is not None:
                outbox = outbox_health(max_age=options["outbox_max_age"])
                if not outbox.ok or outbox.reason != "outbox not used":
                    health = replace(outbox, reason=f"{health.reason}; {outbox.reason}")
        stream = self.stdout if health.ok else self.stderr
        stream.write(("OK: " if health.ok else "FAIL: ") + health.reason)
        if not health.ok:
            sys.exit(1)
