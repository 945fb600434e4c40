"""``manage.py rsmq_queues list|sync|create|update|delete|purge|pause|resume``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ...checks import TAG
from ...conf import rsmq_settings
from ...connections import rsmq_for_queue
from ...engine.retry import RetryPolicy
from ...operations import queues, stats
from ...operations.queues import QueueChange, apply_changes, ensure_queue, plan_sync
from ..arguments import Subcommands
from ..output import as_json, command_errors, confirm, table


def _attrs(p: ArgumentParser) -> None:
    p.add_argument("name")
    p.add_argument("--vt", type=int, help="visibility timeout, seconds")
    p.add_argument("--delay", type=int, help="delay of new messages, seconds")
    p.add_argument("--maxsize", type=int, help="max body bytes (1024..65536, -1 = no limit)")


def _seconds(value: float) -> str:
    return f"{value:g}s"


def readable(attr: str, value: Any) -> str:
    """An attribute value as ``sync``/``list``/``update`` print it (not a repr)."""
    if value is None:
        return "none"
    if attr == "maxsize" and value == -1:
        return "unlimited"
    if isinstance(value, RetryPolicy):
        if value.delays:
            delays = [_seconds(d) for d in value.delays]
            return delays[0] if len(delays) == 1 else "[" + ", ".join(delays) + "]"
        jitter = f", jitter {value.jitter:.0%}" if value.jitter else ""
        return (
            f"exponential {_seconds(value.base)} x{value.factor:g} "
            f"up to {_seconds(value.max)}{jitter}"
        )
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe(change: QueueChange, dlq_of: dict[str, list[str]]) -> str:
    """One line of the sync plan; a dead-letter queue says whose it is."""
    head = f"{change.action} {change.queue} [{change.connection}]"
    if change.action == "create":
        body = ", ".join(f"{k}={readable(k, new)}" for k, (_, new) in change.changes.items())
    else:
        body = ", ".join(
            f"{k}: {readable(k, old)} -> {readable(k, new)}"
            for k, (old, new) in change.changes.items()
        )
    line = f"{head} ({body})"
    if change.queue in dlq_of:
        line += f", the dead-letter queue of {', '.join(dlq_of[change.queue])}"
    return line


def _dead_letter_queues() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, q in sorted(rsmq_settings().queues.items()):
        if q.dlq and q.dlq != name:
            out.setdefault(q.dlq, []).append(name)
    return out


class Command(BaseCommand):
    help = "List, sync, create, update, delete or purge queues."
    requires_system_checks = [TAG]  # not W018: the command's error says it

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = Subcommands(parser, dest="action", required=True)
        p = sub.add_parser("list", help="queues declared in settings and found in Redis")
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("sync", help="create/update declared queues to match settings")
        p.add_argument("names", nargs="*", metavar="name")
        p.add_argument("--dry-run", action="store_true", help="print the changes only")
        _attrs(sub.add_parser("create", help="create a queue (declared settings + flags)"))
        _attrs(sub.add_parser("update", help="change vt/delay/maxsize of a queue"))
        for action in ("delete", "purge"):
            p = sub.add_parser(action, help=f"{action} a queue")
            p.add_argument("name")
            p.add_argument("--yes", action="store_true", help="really do it")
        p = sub.add_parser("pause", help="stop consumers receiving from a queue (sends go on)")
        p.add_argument("name")
        p = sub.add_parser("resume", help="let consumers receive from a paused queue again")
        p.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        with command_errors():
            getattr(self, f"do_{options['action']}")(**options)

    def do_list(self, json: bool = False, **_: Any) -> None:
        data = stats.collect()
        if json:
            self.stdout.write(as_json(data.as_dict()["queues"]))
            return
        rows = [
            (
                q.name,
                q.connection,
                q.declared,
                q.exists,
                q.vt,
                q.delay,
                None if q.maxsize is None else readable("maxsize", q.maxsize),
                q.messages,
            )
            for q in data.queues
        ]
        headers = ("QUEUE", "CONNECTION", "DECLARED", "EXISTS", "VT", "DELAY", "MAXSIZE", "MSGS")
        self.stdout.write(table(headers, rows))

    def do_sync(self, names: list[str], dry_run: bool = False, **_: Any) -> None:
        plan = plan_sync(names or None)
        dlq_of = _dead_letter_queues()
        for change in plan:
            self.stdout.write(("would " if dry_run else "") + describe(change, dlq_of))
        if not plan:
            self.stdout.write("queues are in sync with settings")
        elif not dry_run:
            apply_changes(plan)

    def _given(self, options: dict[str, Any]) -> dict[str, Any]:
        return {k: options[k] for k in ("vt", "delay", "maxsize") if options.get(k) is not None}

    def do_create(self, name: str, **options: Any) -> None:
        rsmq = rsmq_for_queue(name)
        given = self._given(options)
        if given:
            rsmq.create_queue(name, **given)
        elif not ensure_queue(name, rsmq):
            raise CommandError(f"Queue {name!r} exists")
        self.stdout.write(f"created {name}")

    def do_update(self, name: str, **options: Any) -> None:
        given = self._given(options)
        if not given:
            raise CommandError("Nothing to update: give --vt, --delay and/or --maxsize")
        a = rsmq_for_queue(name).set_queue_attributes(name, **given)
        maxsize = readable("maxsize", a.maxsize)
        self.stdout.write(f"updated {name}: vt={a.vt:g} delay={a.delay:g} maxsize={maxsize}")

    def do_delete(self, name: str, yes: bool = False, **_: Any) -> None:
        confirm(yes, f"delete queue {name!r}", lambda: rsmq_for_queue(name).delete_queue(name))
        self.stdout.write(f"deleted {name}")

    def do_purge(self, name: str, yes: bool = False, **_: Any) -> None:
        n = confirm(yes, f"purge queue {name!r}", lambda: rsmq_for_queue(name).purge(name))
        self.stdout.write(f"purged {name}: {n} message(s) deleted")

    def do_pause(self, name: str, **_: Any) -> None:
        changed = queues.pause(name)
        self.stdout.write(f"paused {name}" if changed else f"{name} was paused already")

    def do_resume(self, name: str, **_: Any) -> None:
        changed = queues.resume(name)
        self.stdout.write(f"resumed {name}" if changed else f"{name} was not paused")
