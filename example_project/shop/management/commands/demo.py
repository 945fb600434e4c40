"""``manage.py demo``: the example's main job, built from django-rsmq's own commands.

1. ``migrate`` and ``demo_user`` (so the admin is ready afterwards),
2. ``rsmq_queues sync`` (create the queues declared in settings),
3. send a batch of orders, notifications and reminders,
4. ``rsmq_consume --burst`` (handle everything that is due, with a progress line),
5. ``rsmq_stats`` (the table).
"""

from __future__ import annotations

import os
import shlex
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from django_rsmq.conf import rsmq_settings

from ...sending import send_demo_batch


def manage_py() -> str:
    """How to run this project's manage.py again, as typed in the current directory:
    the same interpreter (relative when it is under the current directory, e.g.
    ``.venv/bin/python``; plain ``python`` in the active venv) and the same manage.py."""
    cwd = Path.cwd()

    def shown(path: str) -> str:
        p = Path(path).absolute()
        return str(p.relative_to(cwd)) if p.is_relative_to(cwd) else str(p)

    python = sys.executable
    if os.environ.get("VIRTUAL_ENV") and Path(sys.prefix) == Path(os.environ["VIRTUAL_ENV"]):
        python = "python"
    elif python:
        python = shown(python)
    script = sys.argv[0] if sys.argv and sys.argv[0].endswith("manage.py") else "manage.py"
    return f"{shlex.quote(python or 'python')} {shlex.quote(shown(script))}"


def next_steps(manage: str) -> str:
    steps = [
        ("rsmq_failed orders list", "the failure records"),
        ("rsmq_dlq orders list", "the dead letters (requeue --all to retry them)"),
        ("rsmq_consume", "keep consuming (the delayed reminders are due in 60 s)"),
        ("runserver", "then http://127.0.0.1:8000/admin/ (log in as shown above)"),
    ]
    width = max(len(f"{manage} {cmd}") for cmd, _ in steps)
    lines = [f"  {f'{manage} {cmd}'.ljust(width)}   {what}" for cmd, what in steps]
    return "\nNext:\n" + "\n".join(lines)


class Command(BaseCommand):
    help = "Sync the queues, send demo messages, consume them (--burst), print the stats."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--orders", type=int, default=60, help="orders to send (60)")
        parser.add_argument("--notifications", type=int, default=20, help="(default 20)")
        parser.add_argument("--reminders", type=int, default=10, help="half delayed (10)")
        parser.add_argument("-c", "--concurrency", type=int, default=4, help="workers (4)")
        parser.add_argument(
            "--fresh",
            action="store_true",
            help="first purge the demo queues, the DLQ and the failure records",
        )

    def step(self, text: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"== {text}"))

    def handle(self, *args: Any, **options: Any) -> None:
        out = {"stdout": self.stdout, "stderr": self.stderr}
        where = rsmq_settings().connections["default"].display()
        self.step(f"Database and admin user (Redis: {where})")
        call_command("migrate", verbosity=0, interactive=False)
        call_command("demo_user", **out)

        self.step("rsmq_queues sync")
        call_command("rsmq_queues", "sync", **out)
        if options["fresh"]:
            self.step("--fresh: purging the demo queues, DLQ and failure records")
            for queue in ("orders", "orders-dlq", "reminders", "notifications"):
                call_command("rsmq_queues", "purge", queue, "--yes", **out)
            call_command("rsmq_failed", "orders", "purge", "--yes", **out)

        self.step("Sending messages")
        sent = send_demo_batch(
            orders=options["orders"],
            notifications=options["notifications"],
            reminders=options["reminders"],
        )
        self.stdout.write(
            f"sent {sent.total}: {sent.orders} orders (every 10th is declined, the other "
            f"multiples of 4 fail once), {sent.notifications} notifications, "
            f"{sent.reminders_now + sent.reminders_later} reminders "
            f"({sent.reminders_later} delayed by 60 s)"
        )

        self.step(f"rsmq_consume --burst --concurrency {options['concurrency']}")
        call_command(
            "rsmq_consume",
            "--burst",
            concurrency=options["concurrency"],
            verbosity=max(1, options["verbosity"]),
            **out,
        )

        self.step("rsmq_stats")
        call_command("rsmq_stats", **out)
        self.stdout.write(next_steps(manage_py()))
