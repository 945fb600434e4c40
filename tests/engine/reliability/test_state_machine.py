"""Random operation sequences keep every message in exactly one place.

After every step each message ever sent is in exactly one of: waiting (visible in its
queue), in flight (hidden after a receive), dead-lettered (in the DLQ), or gone by a
documented rule (acked; dropped by purge or by retention). Time is explicit: vt is
long and "crash / vt expiry" makes the message visible at once (what vt expiry does),
so no step sleeps.
"""

from __future__ import annotations

import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from django_rsmq.engine import RSMQ, StaleReceipt
from django_rsmq.testing import TestRedis, unique_namespace

pytestmark = pytest.mark.slow

VT = 30.0


def make_machine(url: str) -> type[RuleBasedStateMachine]:
    class Queues(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.client = redis.Redis.from_url(url)
            self.ns = unique_namespace("sm")
            self.r = RSMQ(self.client, namespace=self.ns)
            self.max_receives = 1
            self.waiting: set[str] = set()
            self.inflight: dict[str, str] = {}  # id -> receipt
            self.dead: set[str] = set()
            self.gone: set[str] = set()
            self.rc: dict[str, int] = {}  # deliveries counted towards max_receives
            self.stale: list[str] = []  # receipts of earlier deliveries
            self.dedup: dict[str, str] = {}  # dedup id -> first message id

        @initialize(max_receives=st.integers(1, 3))
        def create(self, max_receives: int) -> None:
            self.max_receives = max_receives
            self.r.create_queue("q", max_receives=max_receives)

        def teardown(self) -> None:
            for q in ("q", "q-dlq"):
                self.r.delete_queue(q)
            self.client.close()

        # -- steps ----------------------------------------------------------------------

        @rule(n=st.integers(1, 3))
        def send(self, n: int) -> None:
            for i in range(n):
                mid = self.r.send("q", f"body-{i}")
                self.waiting.add(mid)
                self.rc[mid] = 0

        @rule(key=st.sampled_from(["a", "b", "c"]))
        def send_dedup(self, key: str) -> None:
            """Documented rule: a dedup id seen within the window enqueues nothing."""
            mid = self.r.send("q", f"dedup-{key}", dedup_id=key)
            if key in self.dedup:
                assert mid == self.dedup[key]
            else:
                self.dedup[key] = mid
                self.waiting.add(mid)
                self.rc[mid] = 0

        @rule(count=st.integers(1, 3))
        def receive(self, count: int) -> None:
            got = self.r._run(self.r.protocol.receive("q", self.r.serializer, vt=VT, count=count))
            for m in got:
                assert m.id in self.waiting, "delivered a message that was not waiting"
                assert m.rc == self.rc[m.id] + 1
                assert m.rc <= self.max_receives, "delivered after crossing max_receives"
                self.rc[m.id] = m.rc
                self.waiting.discard(m.id)
                self.inflight[m.id] = m.receipt
            # Waiting messages at the limit that the receive met went to the DLQ.
            in_dlq = {mid for mid in self.waiting if self._score("q-dlq", mid) is not None}
            for mid in in_dlq:
                assert self.rc[mid] >= self.max_receives
            self.waiting -= in_dlq
            self.dead |= in_dlq
            if len(got) < count:  # it ran out: nothing receivable was left behind
                assert not self.waiting

        @precondition(lambda self: self.inflight)
        @rule(data=st.data())
        def ack(self, data: st.DataObject) -> None:
            mid = data.draw(st.sampled_from(sorted(self.inflight)))
            self.r.ack(self.inflight.pop(mid))
            self.gone.add(mid)

        @precondition(lambda self: self.inflight)
        @rule(data=st.data())
        def nack(self, data: st.DataObject) -> None:
            mid = data.draw(st.sampled_from(sorted(self.inflight)))
            assert self.r.nack(self.inflight.pop(mid), delay=0) == 0
            self.waiting.add(mid)

        @precondition(lambda self: self.inflight)
        @rule(data=st.data())
        def fail(self, data: st.DataObject) -> None:
            mid = data.draw(st.sampled_from(sorted(self.inflight)))
            res = self.r.fail(self.inflight.pop(mid), RuntimeError("step failed"))
            assert res.dead_lettered == (self.rc[mid] >= self.max_receives)
            (self.dead if res.dead_lettered else self.waiting).add(mid)

        @precondition(lambda self: self.inflight)
        @rule(data=st.data())
        def crash(self, data: st.DataObject) -> None:
            """The consumer died: its vt runs out and the message is visible again."""
            mid = data.draw(st.sampled_from(sorted(self.inflight)))
            self.stale.append(self.inflight.pop(mid))
            assert self.r.change_visibility("q", mid, 0)
            self.waiting.add(mid)

        @precondition(lambda self: self.inflight)
        @rule()
        def crash_all(self) -> None:
            """Every consumer died at once."""
            for mid, receipt in sorted(self.inflight.items()):
                self.stale.append(receipt)
                assert self.r.change_visibility("q", mid, 0)
                self.waiting.add(mid)
            self.inflight.clear()

        @precondition(lambda self: self.stale)
        @rule()
        def late_ack(self) -> None:
            """A crashed consumer's receipt is fenced once the message was received again."""
            receipt = self.stale.pop()
            mid = receipt.split(":")[1]
            if mid in self.inflight and self.inflight[mid] != receipt:
                try:
                    self.r.ack(receipt)
                except StaleReceipt:
                    return
                raise AssertionError("a stale receipt acked a redelivered message")

        @precondition(lambda self: self.dead)
        @rule(reset=st.booleans(), limit=st.none() | st.integers(1, 3))
        def redrive(self, reset: bool, limit: int | None) -> None:
            res = self.r.redrive("q-dlq", limit=limit, reset_rc=reset)
            assert res.missing == []
            assert set(res.moved) <= self.dead
            assert len(res.moved) == (
                len(self.dead) if limit is None else min(limit, len(self.dead))
            )
            for mid in res.moved:
                self.dead.discard(mid)
                self.waiting.add(mid)
                if reset:
                    self.rc[mid] = 0

        @rule()
        def purge(self) -> None:
            """Documented rule: purge drops every message of the queue."""
            assert self.r.purge("q") == len(self.waiting) + len(self.inflight)
            self.gone |= self.waiting | set(self.inflight)
            self.waiting.clear()
            self.inflight.clear()

        @rule(dead_letter=st.booleans())
        def everything_expires(self, dead_letter: bool) -> None:
            """Documented rule: past the retention period a message is dropped, or
            dead-lettered with retention_action="dead_letter"."""
            action = "dead_letter" if dead_letter else "drop"
            self.r.set_queue_attributes("q", retention=0, retention_action=action)
            assert self.r.purge_expired("q") == len(self.waiting) + len(self.inflight)
            self.r.set_queue_attributes("q", retention=None, retention_action=None)
            (self.dead if dead_letter else self.gone).update(self.waiting | set(self.inflight))
            self.waiting.clear()
            self.inflight.clear()

        # -- the invariant ------------------------------------------------------------

        def _score(self, q: str, mid: str) -> float | None:
            return self.client.zscore(f"{self.ns}:{q}", mid)

        @invariant()
        def each_message_is_in_exactly_one_place(self) -> None:
            places = [self.waiting, set(self.inflight), self.dead, self.gone]
            assert sum(len(p) for p in places) == len(self.rc), "a message is in two places"
            assert set().union(*places) == set(self.rc)
            src = {m.decode() for m in self.client.zrange(f"{self.ns}:q", 0, -1)}
            dlq = {m.decode() for m in self.client.zrange(f"{self.ns}:q-dlq", 0, -1)}
            assert src == self.waiting | set(self.inflight)
            assert dlq == self.dead
            now_s, now_us = self.client.time()
            now = now_s * 1000 + now_us // 1000
            for mid in self.inflight:
                assert (self._score("q", mid) or 0) > now  # hidden
            for mid in self.waiting:
                assert (self._score("q", mid) or 0) <= now + 5  # receivable
            for mid in src:
                raw = self.client.hget(f"{self.ns}:q:Q", f"{mid}:rc")
                assert int(raw or 0) == self.rc[mid]
            # Our own operations never leave side data behind.
            for q, alive in (("q", src), ("q-dlq", dlq)):
                side = {f.decode()[:32] for f in self.client.hkeys(f"{self.ns}:{q}:meta")}
                assert side <= alive

    return Queues


def test_random_operation_sequences(test_redis: TestRedis) -> None:
    machine = make_machine(test_redis.url)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=50,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
