"""``manage.py demo``: the example's main job, built from django-rsmq's own commands.

1. ``migrate`` and ``demo_user`` (so the admin is ready afterwards),
2. ``rsmq_queues sync`` (create the queues declared in settings),
3. send a batch of orders, notifications and reminders,
4. ``rsmq_consume --burst`` (handle everything that is due, with a progress line),
5. ``rsmq_stats`` (the table).
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from django_rsmq.conf import rsmq_settings

from ...sending import send_demo_batch


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
        self.stdout.write(
            "\nNext:\n"
            "  manage.py rsmq_failed orders list     the failure records\n"
            "  manage.py rsmq_dlq orders list        the dead letters "
            "(requeue --all to retry them)\n"
            "  manage.py rsmq_consume                keep consuming "
            "(the delayed reminders are due in 60 s)\n"
            "  manage.py runserver                   then http://127.0.0.1:8000/admin/ "
            "(log in as shown above)"
        )
