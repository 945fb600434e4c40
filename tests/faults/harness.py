"""The fault suite's harness: a private Redis, real consumers, a numbered producer.

- :class:`Harness` starts a private ``redis-server`` (AOF on, temp dir, a loopback port;
  ``term()`` / ``kill()`` / ``start()`` stop it by pid and bring it back on the same port
  with the same data dir), creates the fault queues of tests/faults/settings.py, and
  starts ``manage.py rsmq_consume`` subprocesses on that Redis or on a fault proxy in
  front of it.
- :class:`Producer` is a thread sending ``{"n": 0}``, ``{"n": 1}``, ... and keeping the
  numbers whose send returned an id (``acked``); a send that raised is ``uncertain``
  (it may or may not have reached Redis) and is neither required nor counted as sent.
- The handlers (tests/testapp/faults.py) RPUSH every number they handle, with the
  message id and receive count, to a list on the private Redis.
- :meth:`Harness.report` compares both: ``lost`` = acknowledged numbers never handled,
  ``duplicated`` = handler runs beyond one per number, ``dup_sends`` = numbers stored
  under more than one message id (a send that ran twice), ``unseen`` = numbers whose
  first handled delivery had rc > 1 (a delivery no handler saw), ``outage`` = the
  longest time without a handled message while the producer was sending; it prints one
  line per scenario.

All waits poll Redis against a deadline; the only sleeps are a fault's own cadence.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import redis

from django_rsmq.conf import parse
from django_rsmq.engine import RSMQ, QueueNotFound
from django_rsmq.engine.server import RedisServer
from django_rsmq.operations.queues import declared_attributes
from django_rsmq.testing import unique_namespace
from tests.consumer.conftest import ConsumerProcess
from tests.faults import settings as fault_settings
from tests.faults.records import processed_key, started_key

__all__ = ["Harness", "Producer", "Record", "Report"]

ROOT = Path(__file__).resolve().parents[2]
TAG = "fault-send"  # in every producer body: a proxy pattern that matches sends only
T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float, what: str) -> T:
    """``predicate()``'s first truthy value, polled every 50 ms; Redis errors count as
    not yet (the server may be restarting)."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(redis.RedisError):
            value = predicate()
            if value:
                return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@dataclass(frozen=True)
class Record:
    """One handler run: ``"<n> <id> <rc> <queue> <pid> <time>"``."""

    n: int
    id: str
    rc: int
    queue: str
    pid: int
    at: float

    @classmethod
    def parse(cls, row: str) -> Record:
        n, mid, rc, queue, pid, at = row.split()
        return cls(int(n), mid, int(rc), queue, int(pid), float(at))


@dataclass(repr=False)
class Report:
    name: str
    sent: int
    processed: int
    lost: list[int]
    duplicated: int
    outage: float
    dup_sends: list[int]
    unseen: int
    uncertain: int

    def line(self) -> str:
        return (
            f"sent={self.sent} processed={self.processed} lost={len(self.lost)} "
            f"duplicated={self.duplicated} outage={self.outage:.1f} "
            f"dup_sends={len(self.dup_sends)} unseen={self.unseen} uncertain={self.uncertain}"
        )

    def __str__(self) -> str:
        return f"faults {self.name}: {self.line()}"

    def __repr__(self) -> str:
        return f"{self} lost={self.lost[:20]} dup_sends={self.dup_sends[:20]}"


class Producer(threading.Thread):
    """Sends numbered messages round robin to ``queues`` every ``interval`` seconds.

    ``queues`` may be reassigned while it runs. ``extra(n)`` adds body fields.
    """

    def __init__(
        self,
        url: str,
        namespace: str,
        queues: Sequence[str],
        *,
        interval: float = 0.01,
        extra: Callable[[int], dict[str, Any]] | None = None,
        first: int = 0,
    ) -> None:
        super().__init__(name="fault-producer", daemon=True)
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)
        self.mq = RSMQ(self.client, namespace=namespace)
        self.queues = list(queues)
        self.interval = interval
        self.extra = extra
        self.acked: dict[int, str] = {}
        self.uncertain: set[int] = set()
        self.errors: Counter[str] = Counter()
        self.next_n = first
        self.started_at = self.stopped_at = time.time()  # of run() and stop()
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def send(self, queue: str, **fields: Any) -> int:
        """Send one numbered message now (also from the test thread); its number."""
        with self._lock:
            n = self.next_n
            self.next_n += 1
        body = {"n": n, "tag": TAG, **(self.extra(n) if self.extra else {}), **fields}
        try:
            mid = self.mq.send(queue, body)
        except Exception as exc:  # outage, lost reply, OOM: it may or may not be stored
            self.uncertain.add(n)
            self.errors[type(exc).__name__] += 1
            self._halt.wait(0.05)
        else:
            self.acked[n] = mid
        return n

    def run(self) -> None:
        self.started_at = time.time()
        while not self._halt.is_set():
            queues = self.queues
            self.send(queues[self.next_n % len(queues)])
            self._halt.wait(self.interval)

    def stop(self) -> None:
        if not self._halt.is_set():
            self.stopped_at = time.time()
        self._halt.set()
        if self.is_alive():
            self.join(10)
        self.mq.close()
        self.client.close()


@dataclass
class Harness:
    """One scenario's private Redis, namespace, consumers and producers."""

    tmp: Path
    fsync: str = "everysec"
    namespace: str = field(default_factory=lambda: unique_namespace("f"))
    consumers: list[ConsumerProcess] = field(default_factory=list)
    producers: list[Producer] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = RedisServer(
            self.tmp, appendonly=True, extra_args=["--appendfsync", self.fsync]
        )
        self.server.start()
        self.client = redis.Redis.from_url(
            self.url, decode_responses=True, socket_timeout=2, socket_connect_timeout=1
        )
        self.mq = RSMQ(redis.Redis.from_url(self.url, socket_timeout=2), namespace=self.namespace)
        self.settings = parse(fault_settings.RSMQ)
        assert self.client.config_get("appendfsync") == {"appendfsync": self.fsync}

    @classmethod
    @contextlib.contextmanager
    def running(cls, fsync: str = "everysec") -> Iterator[Harness]:
        with tempfile.TemporaryDirectory(prefix="rsmq-faults-") as tmp:
            h = cls(Path(tmp), fsync)
            try:
                yield h
            finally:
                h.close()

    # -- Redis --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    def term(self) -> None:
        """SIGTERM the server (it flushes the AOF and exits) and wait for it."""
        self.server.stop()

    def kill(self) -> None:
        """SIGKILL the server: what the AOF has on disk is what comes back."""
        self.server.kill()

    def start(self) -> None:
        """Start it again on the same port with the same data dir (bounded wait)."""
        self.server.start()

    def create_queues(self, *names: str) -> None:
        """Create queues with their attributes from tests/faults/settings.py."""
        for name in names:
            self.mq.create_queue(name, **declared_attributes(self.settings.queue(name)))

    def msgs(self, queue: str) -> int:
        try:
            return self.mq.get_queue_attributes(queue).msgs
        except QueueNotFound:
            return 0

    # -- processes ----------------------------------------------------------------------

    def environ(self, url: str | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="tests.faults.settings",
            RSMQ_FAULT_URL=url or self.url,
            RSMQ_FAULT_RECORD_URL=self.url,
            RSMQ_FAULT_NAMESPACE=self.namespace,
            PYTHONUNBUFFERED="1",
            PYTHONPATH=str(ROOT),
        )
        return env

    def consumer(self, *args: str, url: str | None = None, wait: bool = True) -> ConsumerProcess:
        """Start ``rsmq_consume *args`` (on ``url``: a proxy, say); by default wait until
        it printed ``started``."""
        c = ConsumerProcess(list(args), self.environ(url))
        self.consumers.append(c)
        if wait:
            c.wait_line("started", timeout=20)
        return c

    def producer(self, queues: Sequence[str], url: str | None = None, **kw: Any) -> Producer:
        p = Producer(url or self.url, self.namespace, queues, **kw)
        self.producers.append(p)
        return p

    # -- observations -------------------------------------------------------------------

    def records(self) -> list[Record]:
        rows = self.client.lrange(processed_key(self.namespace), 0, -1)
        return [Record.parse(str(r)) for r in rows]

    def started(self) -> list[str]:
        return [str(r) for r in self.client.lrange(started_key(self.namespace), 0, -1)]

    def wait_for_start(self, n: int, timeout: float = 10.0) -> None:
        """Until a handler began the (``sleep``-ing) message number ``n``."""
        wait_for(
            lambda: any(row.split()[0] == str(n) for row in self.started()),
            timeout,
            f"message {n} to start",
        )

    def wait_processed(self, numbers: Iterable[int], timeout: float = 20.0) -> bool:
        """Whether every one of ``numbers`` was handled in time (if not, the report
        says which ones are missing)."""
        want = set(numbers)
        try:
            wait_for(lambda: want <= {r.n for r in self.records()}, timeout, "handling")
        except AssertionError:
            return False
        return True

    def wait_empty(self, queues: Iterable[str], timeout: float = 20.0) -> bool:
        """Whether every queue drained (nothing visible, delayed or hidden) in time."""
        qs = list(queues)
        try:
            wait_for(lambda: all(self.msgs(q) == 0 for q in qs), timeout, f"{qs} to drain")
        except AssertionError:
            return False
        return True

    def settle(self, producer: Producer, queues: Iterable[str], timeout: float = 20.0) -> bool:
        """Wait until every message ``producer`` had acknowledged was handled, then
        until ``queues`` are empty (nothing visible, delayed or hidden: no delivery
        left that could still run a handler). Whether both happened in time; when
        something is missing it does not wait for the queues, the report says what."""
        if not self.wait_processed(producer.acked, timeout):
            return False
        return self.wait_empty(queues, timeout)

    def report(self, name: str, producer: Producer) -> Report:
        """Compare what ``producer`` had acknowledged with what the handlers recorded
        (after ``settle``), print the scenario's line and return it. ``outage`` is the
        longest time without a handled message of ``producer`` while it was sending."""
        records = self.records()
        ours = set(producer.acked) | producer.uncertain
        records = [r for r in records if r.n in ours]
        seen = {r.n for r in records}
        ids: dict[int, set[str]] = {}
        first: dict[int, Record] = {}
        for r in records:
            ids.setdefault(r.n, set()).add(r.id)
            first.setdefault(r.n, r)
        times = sorted(r.at for r in records)
        # from the producer's start to its stop: the drain after it (redeliveries after a
        # vt) is no outage, a stall until the stop is
        start, end = producer.started_at, producer.stopped_at
        points = [start, *(t for t in times if start < t < end), end]
        gaps = [b - a for a, b in itertools.pairwise(points)]
        rep = Report(
            name=name,
            sent=len(producer.acked),
            processed=len(seen),
            lost=sorted(set(producer.acked) - seen),
            duplicated=len(records) - len(seen),
            outage=max(gaps, default=0.0),
            dup_sends=sorted(n for n, s in ids.items() if len(s) > 1),
            unseen=sum(1 for r in first.values() if r.rc > 1),
            uncertain=len(producer.uncertain),
        )
        print(rep)
        return rep

    def output(self) -> str:
        """Every consumer's output so far (for assertion messages)."""
        return "\n".join(f"--- pid {c.proc.pid}\n{c.output()}" for c in self.consumers)

    def close(self) -> None:
        for p in self.producers:
            p.stop()
        for c in self.consumers:
            c.stop()
        self.mq.close()
        self.mq.client.close()
        self.client.close()
        self.server.kill()
