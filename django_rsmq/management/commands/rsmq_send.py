"""``manage.py rsmq_send QUEUE BODY [--delay S] [--json]``."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ...checks import TAG
from ...producer import send
from ..arguments import one_line_errors
from ..output import command_errors


class Command(BaseCommand):
    help = "Send one message; prints its id."
    requires_system_checks = [TAG]  # not W018: the command's error says it

    def add_arguments(self, parser: ArgumentParser) -> None:
        one_line_errors(parser)
        parser.add_argument("queue")
        parser.add_argument("body")
        parser.add_argument("--delay", type=float, help="seconds before it becomes visible")
        parser.add_argument("--json", action="store_true", help="BODY is JSON: send the value")
        parser.add_argument("--dedup-id", help="deduplication id")

    def handle(self, *args: Any, **options: Any) -> None:
        body: Any = options["body"]
        if options["json"]:
            try:
                body = json.loads(body)
            except ValueError as exc:
                raise CommandError(f"BODY is not valid JSON: {exc}") from exc
        with command_errors():
            message_id = send(
                options["queue"], body, delay=options["delay"], dedup_id=options["dedup_id"]
            )
        self.stdout.write(message_id)
