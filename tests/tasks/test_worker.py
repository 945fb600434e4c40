"""The worker side: rsmq_consume (in-process) and drain() run enqueued tasks."""

from __future__ import annotations

import pytest

pytest.importorskip("django.tasks", reason="django.tasks (the Tasks framework) needs Django 6.0+")

from collections.abc import Iterator
from types import ModuleType
from typing import Any

from django.tasks import TaskResultStatus
from django.tasks.signals import task_enqueued, task_finished, task_started

from django_rsmq import send
from django_rsmq.connections import rsmq_for_queue
from django_rsmq.consumer import Consumer
from django_rsmq.operations.queues import ensure_queue
from django_rsmq.tasks import RSMQTaskBackend
from django_rsmq.tasks.worker import UNKNOWN_WORKER, worker_id
from django_rsmq.testing import drain, eager

Event = tuple[str, Any]
INVALID = "django_rsmq.tasks.envelope.InvalidEnvelope"


@pytest.fixture
def events() -> Iterator[list[Event]]:
    """``(signal, task_result snapshot)`` for every task signal, in order."""
    seen: list[Event] = []

    def receiver(name: str) -> Any:
        def on(sender: Any, task_result: Any, **kwargs: Any) -> None:
            assert sender is RSMQTaskBackend
            snapshot = {
                "id": task_result.id,
                "status": task_result.status,
                "worker_ids": list(task_result.worker_ids),
                "errors": [e.exception_class_path for e in task_result.errors],
                "result": task_result,
            }
            seen.append((name, snapshot))

        return on

    pairs = [
        (s, receiver(n))
        for s, n in (
            (task_enqueued, "enqueued"),
            (task_started, "started"),
            (task_finished, "finished"),
        )
    ]
    for signal, on in pairs:
        signal.connect(on)
    yield seen
    for signal, on in pairs:
        signal.disconnect(on)


def _names(events: list[Event]) -> list[str]:
    return [name for name, _ in events]


def _consume(*queues: str, name: str = "w1") -> int:
    return Consumer(list(queues), burst=True, verbosity=0, name=name).run()


def test_consumer_runs_the_task_and_signals_fire_in_order(
    t: ModuleType, events: list[Event]
) -> None:
    result = t.add.enqueue(2, b=3)
    assert _consume("default", name="consumer-a") == 0
    assert t.CALLS == [("add", [2, 3])]
    assert _names(events) == ["enqueued", "started", "finished"]
    started, finished = events[1][1], events[2][1]
    assert started["id"] == finished["id"] == result.id
    assert started["status"] == TaskResultStatus.RUNNING
    assert finished["status"] == TaskResultStatus.SUCCESSFUL
    done = finished["result"]
    assert done.return_value == 5
    assert done.worker_ids == ["consumer-a"]
    assert done.attempts == 1
    assert done.enqueued_at == result.enqueued_at
    assert done.started_at <= done.finished_at
    assert done.last_attempted_at == done.started_at
    assert (done.args, done.kwargs, done.backend) == ([2], {"b": 3}, "default")
    assert done.task.func is t.add.func
    assert rsmq_for_queue("default").get_queue_attributes("default").msgs == 0  # acked


def test_async_task_runs_in_the_consumer(t: ModuleType, events: list[Event]) -> None:
    t.async_double.enqueue(21)
    assert _consume("default") == 0
    assert t.CALLS == [("async_double", 21)]
    finished = events[-1][1]
    assert finished["status"] == TaskResultStatus.SUCCESSFUL
    assert finished["result"].return_value == 42


def test_takes_context_gets_the_attempt_number_from_the_receive_count(
    t: ModuleType, events: list[Event]
) -> None:
    result = t.fails_once.enqueue("hi")
    outcome = drain("default")
    assert (outcome.processed, outcome.failed) == (1, 1)
    assert t.CALLS == [("fails_once", 1), ("fails_once", 2)]
    assert _names(events) == ["enqueued", "started", "finished", "started", "finished"]
    first, second = events[2][1], events[4][1]
    assert first["status"] == TaskResultStatus.FAILED
    assert first["errors"] == ["builtins.RuntimeError"]
    assert second["status"] == TaskResultStatus.SUCCESSFUL
    assert second["result"].return_value == {"attempt": 2, "id": result.id, "word": "hi"}
    assert second["worker_ids"] == [UNKNOWN_WORKER, worker_id()]


def test_failing_task_is_retried_then_dead_lettered_per_queue_settings(
    t: ModuleType, events: list[Event]
) -> None:
    result = t.always_fails.enqueue("boom")
    outcome = drain("tasks-flaky")  # MAX_RECEIVES 3, RETRY [0]
    assert (outcome.failed, outcome.dead_lettered) == (2, 1)
    assert t.CALLS == [("always_fails", "boom")] * 3
    finished = [e for name, e in events if name == "finished"]
    assert [f["status"] for f in finished] == [TaskResultStatus.FAILED] * 3
    assert [f["result"].attempts for f in finished] == [1, 2, 3]
    assert finished[0]["errors"] == ["builtins.ValueError"]
    error = finished[0]["result"].errors[0]
    assert error.exception_class is ValueError
    assert "asked to fail: boom" in error.traceback
    rsmq = rsmq_for_queue("tasks-flaky")
    [dead] = rsmq.peek("tasks-flaky-dlq")
    assert dead.id == result.id
    assert dead.body["task"] == "tests.testapp.tasks.always_fails"
    records = rsmq.failed("tasks-flaky").items
    assert [r.exc_type for r in records] == ["ValueError"] * 3


def test_a_return_value_that_is_not_json_fails_the_attempt(
    t: ModuleType, events: list[Event]
) -> None:
    t.returns_object.enqueue()
    _consume("default")
    finished = events[-1][1]
    assert finished["status"] == TaskResultStatus.FAILED
    assert finished["errors"] == ["builtins.TypeError"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("not a task {", "must be a JSON object"),
        ({"v": 99, "task": "x.y", "backend": "default"}, "unsupported task message version"),
        ({"v": 1, "task": "tests.testapp.nowhere.f", "backend": "default"}, "cannot import"),
        ({"v": 1, "task": "tests.testapp.tasks.CALLS", "backend": "default"}, "not a Task"),
        ({"v": 1, "task": "tests.testapp.tasks.add", "backend": "nope"}, "no TASKS backend"),
        ({"v": 1, "task": "tests.testapp.tasks.add", "args": {}, "backend": "default"}, "'args'"),
    ],
)
def test_bad_messages_are_recorded_failures_not_consumer_crashes(
    t: ModuleType, events: list[Event], body: Any, error: str
) -> None:
    send("default", body)
    t.add.enqueue(1, 1)  # a good one after it still runs
    assert _consume("default") == 0
    assert t.CALLS == [("add", [1, 1])]
    rsmq = rsmq_for_queue("default")
    records = rsmq.failed("default").items  # retried at once until MAX_RECEIVES 5
    assert [(r.exc_type, error in r.error) for r in records] == [(INVALID, True)] * 5
    assert [r.dead_lettered for r in records].count(True) == 1
    assert len(rsmq.peek("default-dlq")) == 1
    assert _names(events) == ["enqueued", "started", "finished"]  # only the good one


def test_undecodable_body_on_a_json_queue_is_a_recorded_failure(
    t: ModuleType, tasks_settings: dict[str, Any]
) -> None:
    from django.test import override_settings

    queues = {**tasks_settings["QUEUES"], "default": {"SERIALIZER": "json", "RETRY": [60]}}
    with override_settings(RSMQ={**tasks_settings, "QUEUES": queues}):
        ensure_queue("default")  # with RETRY [60]: one failure, no redelivery in the drain
        rsmq_for_queue("default").send("default", "{not json", serializer="text")
        assert _consume("default") == 0  # the consumer decodes with the queue's serializer
        [record] = rsmq_for_queue("default").failed("default").items
        assert record.exc_type == "django_rsmq.engine.errors.BodyDecodeError"


def test_delayed_task_runs_once_visible(t: ModuleType) -> None:
    from datetime import timedelta

    from django.utils import timezone

    result = t.add.using(run_after=timezone.now() + timedelta(seconds=60)).enqueue(4, 5)
    assert drain("default").total == 0
    rsmq_for_queue("default").change_visibility("default", result.id, 0)
    assert drain("default").processed == 1
    assert t.CALLS == [("add", [4, 5])]


def test_eager_mode_runs_the_task_inside_enqueue(t: ModuleType, events: list[Event]) -> None:
    with eager():
        result = t.add.enqueue(1, 2)
    assert t.CALLS == [("add", [1, 2])]
    assert _names(events) == ["started", "finished", "enqueued"]  # documented order
    assert events[1][1]["result"].return_value == 3
    assert result.status == TaskResultStatus.READY


def test_a_snoozed_task_is_not_finished_and_runs_again(t: ModuleType, events: list[Event]) -> None:
    t.snoozes_once.enqueue()
    outcome = drain("default")
    assert (outcome.snoozed, outcome.processed, outcome.failed) == (1, 1, 0)
    assert t.CALLS == [("snoozes_once", 1), ("snoozes_once", 2)]
    assert _names(events) == ["enqueued", "started", "started", "finished"]
    finished = events[-1][1]
    assert (finished["status"], finished["errors"]) == (TaskResultStatus.SUCCESSFUL, [])
    assert rsmq_for_queue("default").failed("default").items == []  # no failure record


def test_a_discarded_task_fails_once_and_is_not_retried(t: ModuleType, events: list[Event]) -> None:
    t.discards.enqueue("stale")
    outcome = drain("tasks-flaky")  # MAX_RECEIVES 3, RETRY [0]: a failure would run again
    assert (outcome.discarded, outcome.failed, outcome.dead_lettered) == (1, 0, 0)
    assert t.CALLS == [("discards", "stale")]
    finished = events[-1][1]
    assert finished["status"] == TaskResultStatus.FAILED
    assert finished["errors"] == ["django_rsmq.outcomes.Discard"]
    rsmq = rsmq_for_queue("tasks-flaky")
    assert rsmq.get_queue_attributes("tasks-flaky").msgs == 0
    assert rsmq.peek("tasks-flaky-dlq") == []
    (record,) = rsmq.failed("tasks-flaky").items
    assert record.discarded
