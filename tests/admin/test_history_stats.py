"""``stats.collect()`` reads any number of queues in a constant number of round trips
(the dashboard at 1,000 queues; timed in benchmarks/admin_dashboard.py), with the same
results as before."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from django_rsmq.engine import RSMQ
from django_rsmq.engine import history as h
from django_rsmq.operations import stats
from tests.admin.conftest import dead_letter, failed_record

pytestmark = pytest.mark.django_db


def _round_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts redis-py round trips: pipelines executed and single commands sent."""
    seen: list[str] = []
    real_execute = redis.client.Pipeline.execute
    real_command = redis.Redis.execute_command

    def execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append("pipeline")
        return real_execute(self, *args, **kwargs)

    def command(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(args[0]))
        return real_command(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", execute)
    monkeypatch.setattr(redis.Redis, "execute_command", command)
    return seen


def test_round_trips_do_not_grow_with_the_number_of_queues(
    engine: RSMQ, monkeypatch: pytest.MonkeyPatch
) -> None:
    stats.collect()  # scripts loaded, this minute's history written
    seen = _round_trips(monkeypatch)
    stats.collect()
    few = len(seen)
    for i in range(40):
        engine.create_queue(f"extra{i}")
    seen.clear()
    stats.collect()  # new queues: this minute's history of the new set (+2), their samples (+1)
    assert few <= len(seen) <= few + 3, seen
    seen.clear()
    stats.collect()
    # +1 at most: the throughput samples' write, one pipeline every 5 s for all queues
    assert few <= len(seen) <= few + 1, seen
    stats._SAMPLER = h.Sampler()  # a new minute: two more round trips, still not per queue
    seen.clear()
    stats.collect()
    assert few + 2 <= len(seen) <= few + 3, seen


def test_results_are_those_of_the_per_queue_reads(engine: RSMQ) -> None:
    dead_letter(engine, "d")
    failed_record(engine, "f")
    engine.send("emails", "a")
    engine.send("emails", "b", delay=600)
    by_name = {q.name: q for q in stats.collect().queues}
    emails = by_name["emails"]
    attrs = engine.get_queue_attributes("emails")
    assert (emails.visible, emails.delayed, emails.sent) == (attrs.visible, attrs.delayed, 3)
    assert emails.failed == engine.failed("emails", limit=1).total == 2
    assert emails.dlq == 1
    assert emails.dead_letter_queue == "emails-dlq"
    assert by_name["other"].failed == 1
    assert by_name["other"].dlq is None
    assert by_name["emails-dlq"].messages == 1
    only = stats.collect(["emails"]).queues
    assert [q.name for q in only] == ["emails"]
    assert only[0].dlq == 1  # the DLQ's depth though it is not among the queues read
