"""The relay: moves committed outbox rows to Redis, each exactly once.

One round (:meth:`Relay.relay_once`) claims up to ``BATCH_SIZE`` committed rows in id
order, sends them with ``send_many`` (one script call per queue), each with the row's
de-duplication id, then deletes them in one statement.

- **Claiming.** Where the database has ``SELECT ... FOR UPDATE SKIP LOCKED``
  (PostgreSQL, MySQL 8, Oracle) the round is one transaction: the rows stay locked
  until their delete commits, and other relays skip them, so any number of relays
  share the work. On PostgreSQL the claim and the delete are one statement
  (``DELETE ... RETURNING``), committed after the send: three round trips a round.
  Elsewhere (SQLite) one relay per database holds a Redis lease
  (:mod:`django_rsmq.outbox.lease`); the others stand by.
- **Exactly once.** A relay killed between its send and its delete leaves the rows
  (the transaction rolls back, or the delete never ran); the next round sends them
  again with the same dedup ids, and Redis drops them if they were enqueued within
  the queue's ``DEDUP_WINDOW``.
- **Outages.** A round that fails (Redis down, the database away) changes nothing;
  :meth:`Relay.run` logs it once, waits (doubling up to ``BACKOFF_MAX``) and tries
  again until it works.
- **Rows that cannot be sent** (queue full, body longer than the queue's maxsize, a
  queue that does not exist and may not be created) stay, with ``attempts`` and
  ``error`` updated; the round goes on with the others.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone

from ..conf import rsmq_settings
from ..connections import get_rsmq, rsmq_for_queue
from ..engine.errors import QueueNotFound
from ..engine.protocol import Entry
from ..engine.serializers import TextSerializer
from .lease import Lease
from .registry import RelayRegistry, relay_name
from .wakeup import Alarm

__all__ = ["Relay", "Row"]

log = logging.getLogger("django_rsmq.outbox")

_RAW = TextSerializer()  # bodies were serialized at write time: sent as they are


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    queue: str
    body: str
    delay: float | None
    dedup_id: str
    created: datetime

    def entry(self, now: datetime) -> Entry:
        """The message to send: the delay counts from the row's write."""
        delay = self.delay
        if delay is not None:
            delay = max(0.0, delay - (now - self.created).total_seconds())
        return Entry(self.body, delay=delay, dedup_id=self.dedup_id)


_FIELDS = ("id", "queue", "body", "delay", "dedup_id", "created")
_CLAIM_RETURNING = (
    "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY id LIMIT %s "
    "FOR UPDATE SKIP LOCKED) RETURNING id, queue, body, delay, dedup_id, created, attempts"
)


class Relay:
    """Relays the outbox of one database alias (settings: ``RSMQ["OUTBOX"]``).

    ``after_send(rows)`` runs between a round's send and its delete (tests use it to
    kill a relay at the worst moment).
    """

    def __init__(
        self,
        database: str = "default",
        *,
        batch_size: int | None = None,
        poll_interval: float | None = None,
        backoff_max: float | None = None,
        lease_ttl: float | None = None,
        name: str | None = None,
        after_send: Callable[[Sequence[Row]], None] | None = None,
    ) -> None:
        cfg = rsmq_settings()
        out = cfg.outbox
        self.database = database
        self.batch_size = int(batch_size or out.batch_size)
        self.poll_interval = float(
            poll_interval if poll_interval is not None else out.poll_interval
        )
        self.backoff_max = float(backoff_max if backoff_max is not None else out.backoff_max)
        self.name = name or relay_name()
        self.after_send = after_send
        self.halt = threading.Event()
        home = get_rsmq(out.connection)
        self.home = home
        conn = connections[database]
        self.skip_locked = conn.features.has_select_for_update_skip_locked
        self.returning = self.skip_locked and conn.vendor == "postgresql"
        ttl = float(lease_ttl if lease_ttl is not None else out.lease_ttl)
        self.lease = None if self.skip_locked else Lease(home.client, cfg.namespace, database, ttl)
        self.registry = RelayRegistry(home.client, cfg.namespace)
        self.heartbeat_interval = float(cfg.consumer.heartbeat_interval)
        self.registry_ttl = float(cfg.consumer.registry_ttl)
        self.relayed = 0  # rows sent and deleted by this relay
        self.rounds = 0

    # -- one round -----------------------------------------------------------------------

    def relay_once(self) -> int:
        """Claim, send and delete one batch; the number of rows relayed (0: none waiting,
        or another relay holds the lease). Raises if Redis or the database fails."""
        if self.lease is not None and not self.lease.hold():
            return 0
        if self.skip_locked:
            with transaction.atomic(using=self.database):
                if self.returning:
                    return self._round_returning()
                return self._round()
        return self._round()  # one relay (the lease): short statements, no long transaction

    def _round_returning(self) -> int:
        """PostgreSQL: claim and delete in one statement (``DELETE ... WHERE id IN
        (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``), send, commit. The delete
        commits only with the round, so a relay that dies before the commit leaves the
        rows; rows that could not be sent are written back (same id) in the round."""
        from .model import OutboxMessage

        table = connections[self.database].ops.quote_name(OutboxMessage._meta.db_table)
        sql = _CLAIM_RETURNING.format(table=table)
        with connections[self.database].cursor() as cursor:
            cursor.execute(sql, [self.batch_size])
            fetched = sorted(cursor.fetchall(), key=lambda r: r[0])
        if not fetched:
            return 0
        rows = [Row(*r[:6]) for r in fetched]
        attempts = {r[0]: r[6] for r in fetched}
        sent, failed = self._send(rows)
        if self.after_send is not None:
            self.after_send(rows)
        if failed:
            by_id = {row.id: row for row in rows}
            OutboxMessage.objects.using(self.database).bulk_create(
                [
                    OutboxMessage(
                        id=i,
                        queue=by_id[i].queue,
                        body=by_id[i].body,
                        delay=by_id[i].delay,
                        dedup_id=by_id[i].dedup_id,
                        created=by_id[i].created,
                        attempts=attempts[i] + 1,
                        error=error[:2000],
                    )
                    for error, ids in failed.items()
                    for i in ids
                ]
            )
        self.rounds += 1
        self.relayed += len(sent)
        return len(sent)

    def _round(self) -> int:
        from .model import OutboxMessage

        qs = OutboxMessage.objects.using(self.database).order_by("id")
        if self.skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        rows = [Row(*values) for values in qs.values_list(*_FIELDS)[: self.batch_size]]
        if not rows:
            return 0
        sent, failed = self._send(rows)
        if self.after_send is not None:
            self.after_send(rows)
        objects = OutboxMessage.objects.using(self.database)
        if sent:
            objects.filter(id__in=sent).delete()
        for error, ids in failed.items():
            objects.filter(id__in=ids).update(attempts=F("attempts") + 1, error=error[:2000])
        self.rounds += 1
        self.relayed += len(sent)
        return len(sent)

    def _send(self, rows: Sequence[Row]) -> tuple[list[int], dict[str, list[int]]]:
        """Send ``rows`` (per queue, in id order); the ids sent, and the failed ones by error."""
        by_queue: dict[str, list[Row]] = {}
        for row in rows:
            by_queue.setdefault(row.queue, []).append(row)
        now = timezone.now()
        sent: list[int] = []
        failed: dict[str, list[int]] = {}
        for queue, group in by_queue.items():
            entries = [row.entry(now) for row in group]
            try:
                outcomes = self._send_many(queue, entries)
            except QueueNotFound as exc:
                failed.setdefault(str(exc), []).extend(row.id for row in group)
                continue
            for row, outcome in zip(group, outcomes, strict=True):
                if outcome.error is None:
                    sent.append(row.id)
                else:
                    text = f"{type(outcome.error).__name__}: {outcome.error}"
                    failed.setdefault(text, []).append(row.id)
        return sent, failed

    def _send_many(self, queue: str, entries: list[Entry]) -> list[Any]:
        rsmq = rsmq_for_queue(queue)
        try:
            return list(rsmq.send_many(queue, entries, serializer=_RAW))
        except QueueNotFound:
            if not rsmq_settings().queue(queue).auto_create:
                raise
            from ..operations.queues import ensure_queue

            ensure_queue(queue, rsmq)
            return list(rsmq.send_many(queue, entries, serializer=_RAW))

    def drain(self, *, max_rounds: int = 1_000_000) -> int:
        """Relay until no committed row is left; the number of rows relayed. Gives the
        single-relay lease (if it took it) back when it returns or raises; 0 while
        another relay holds it."""
        total = 0
        try:
            for _ in range(max_rounds):
                n = self.relay_once()
                total += n
                if n == 0:
                    break
        finally:
            if self.lease is not None:
                self.lease.release()
        return total

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> None:
        """Relay until :meth:`stop`: a round after each wake-up or poll interval, at once
        again after a full batch; after a failed round, wait (bounded back-off)."""
        from ..consumer.trouble import Trouble

        trouble = Trouble(f"Outbox relay ({self.database})")
        cfg = rsmq_settings()
        alarm = Alarm(self.home.client, cfg.namespace, [self.database], self.halt)
        backoff = 0.0
        next_beat = 0.0
        try:
            while not self.halt.is_set():
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self.heartbeat_interval
                    self._beat(trouble)
                try:
                    n = self.relay_once()
                except Exception as exc:
                    backoff = min(self.backoff_max, max(0.05, backoff * 2))
                    trouble.report(exc, backoff)
                    connections[self.database].close_if_unusable_or_obsolete()
                    self.halt.wait(backoff)
                    continue
                if backoff:
                    log.info("Outbox relay (%s) works again", self.database)
                backoff = 0.0
                trouble.ok()
                if n < self.batch_size:
                    alarm.wait(min(self.poll_interval, self.heartbeat_interval))
        finally:
            alarm.close()
            if self.lease is not None:
                self.lease.release()
            with contextlib.suppress(Exception):  # Redis down at exit: the entry ages out
                self.registry.remove(self.name)
            connections[self.database].close()

    def _beat(self, trouble: Any) -> None:
        try:
            self.registry.beat(self.name)
        except Exception as exc:
            trouble.report(exc)

    def stop(self) -> None:
        self.halt.set()
