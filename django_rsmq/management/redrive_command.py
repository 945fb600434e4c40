"""The shared shape of ``rsmq_dlq`` and ``rsmq_failed``: list, requeue, purge."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ..checks import TAG
from ..operations import redrive
from .arguments import Subcommands
from .output import as_json, command_errors, confirm

__all__ = ["RedriveCommand"]


class RedriveCommand(BaseCommand):
    kind = ""  # "dlq" | "failed"
    requires_system_checks = [TAG]  # not W018: the command's error says it

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("queue", help="the source queue")
        sub = Subcommands(parser, dest="action", required=True)
        p = sub.add_parser("list")
        p.add_argument("--offset", type=int, default=0)
        p.add_argument("--limit", type=int, default=20)
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("requeue")
        p.add_argument("--ids", nargs="+", metavar="ID", help="these messages")
        p.add_argument("--all", action="store_true", help="every message")
        p.add_argument("--limit", type=int, help="at most N messages")
        p.add_argument("--to", help="another queue instead of the source queue")
        if self.kind == "dlq":
            p.add_argument(
                "--keep-receive-count",
                action="store_true",
                help="restore each message's rc (with an unchanged max_receives its next "
                "receive dead-letters it again); by default rc starts from 0",
            )
        p = sub.add_parser("purge")
        p.add_argument("--yes", action="store_true", help="really delete them")

    def handle(self, *args: Any, **options: Any) -> None:
        with command_errors():
            getattr(self, f"do_{options['action']}")(**options)

    def rows(self, queue: str, offset: int, limit: int) -> list[dict[str, Any]]:
        raise NotImplementedError

    def do_list(self, queue: str, offset: int, limit: int, json: bool = False, **_: Any) -> None:
        rows = self.rows(queue, offset, limit)
        if json:
            self.stdout.write(as_json(rows))
            return
        for row in rows:
            self.stdout.write("  ".join(f"{k}={v}" for k, v in row.items()))
        if not rows:
            self.stdout.write("(empty)")

    def do_requeue(
        self,
        queue: str,
        ids: list[str] | None = None,
        all: bool = False,
        limit: int | None = None,
        to: str | None = None,
        keep_receive_count: bool = False,
        **_: Any,
    ) -> None:
        if not ids and not all and limit is None:
            raise CommandError("Say which messages: --ids ID ..., --limit N or --all")
        if self.kind == "dlq":
            done = redrive.dlq_requeue(
                queue, ids=ids, limit=limit, to=to, reset_rc=not keep_receive_count
            )
        else:
            done = redrive.failed_requeue(queue, ids=ids, limit=limit, to=to)
        missing = f", {len(done.missing)} missing" if done.missing else ""
        skipped = "".join(
            f", {n} skipped ({redrive.SKIP_REASONS[k]})" for k, n in done.skipped.items()
        )
        self.stdout.write(f"requeued {done.moved}{missing}{skipped}")

    def do_purge(self, queue: str, yes: bool = False, **_: Any) -> None:
        purge = redrive.dlq_purge if self.kind == "dlq" else redrive.failed_purge
        n = confirm(yes, f"purge the {self.kind} of {queue!r}", lambda: purge(queue))
        self.stdout.write(f"purged {n}")
