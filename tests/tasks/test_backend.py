"""RSMQTaskBackend, producer side: enqueue, validation, handler wiring, system checks."""

from __future__ import annotations

import pytest

pytest.importorskip("django.tasks", reason="django.tasks (the Tasks framework) needs Django 6.0+")

from datetime import timedelta
from types import ModuleType
from typing import Any

from django.tasks import TaskResultStatus, task_backends
from django.tasks.exceptions import InvalidTask
from django.tasks.signals import task_enqueued
from django.test import override_settings
from django.utils import timezone

from django_rsmq import handler
from django_rsmq.connections import rsmq_for_queue
from django_rsmq.engine import Message, QueueNotFound
from django_rsmq.engine.validation import SECONDS_MAX
from django_rsmq.handlers import registry
from django_rsmq.tasks import RSMQTaskBackend
from django_rsmq.tasks.registration import RUN_TASK_NAME

from .conftest import BACKEND, TASKS


def _ids(messages: Any) -> list[str]:
    return [m.id for m in messages]


def test_backend_flags_are_honest() -> None:
    backend = task_backends["default"]
    assert isinstance(backend, RSMQTaskBackend)
    assert backend.supports_defer
    assert backend.supports_async_task
    assert not backend.supports_priority
    assert not backend.supports_get_result
    with pytest.raises(NotImplementedError):
        backend.get_result("anything")


def test_enqueue_sends_one_message_and_returns_a_ready_result(t: ModuleType) -> None:
    seen: list[Any] = []

    def on_enqueued(sender: Any, task_result: Any, **kwargs: Any) -> None:
        seen.append((sender, task_result))

    task_enqueued.connect(on_enqueued)
    try:
        before = timezone.now()
        result = t.add.enqueue(2, b=3)
    finally:
        task_enqueued.disconnect(on_enqueued)
    assert seen == [(RSMQTaskBackend, result)]
    assert result.status == TaskResultStatus.READY
    assert result.backend == "default"
    assert result.task is t.add
    assert (result.args, result.kwargs) == ([2], {"b": 3})
    assert result.started_at is result.finished_at is result.last_attempted_at is None
    assert (result.errors, result.worker_ids) == ([], [])
    assert result.enqueued_at is not None
    assert before <= result.enqueued_at <= timezone.now()
    [peeked] = rsmq_for_queue("default").peek("default")
    assert peeked.id == result.id
    assert len(result.id) <= 64
    assert peeked.body == {
        "v": 1,
        "task": "tests.testapp.tasks.add",
        "backend": "default",
        "args": [2],
        "kwargs": {"b": 3},
        "enqueued_at": result.enqueued_at.isoformat(),
        "run_after": None,
    }
    assert peeked.state == "visible"


def test_arguments_are_normalized_to_json_like_django(t: ModuleType) -> None:
    result = t.add.enqueue((1, 2), b=b"x")  # a tuple becomes a list, bytes a str
    assert (result.args, result.kwargs) == ([[1, 2]], {"b": "x"})
    [peeked] = rsmq_for_queue("default").peek("default")
    assert (peeked.body["args"], peeked.body["kwargs"]) == ([[1, 2]], {"b": "x"})


def test_arguments_that_are_not_json_fail_before_anything_is_sent(t: ModuleType) -> None:
    with pytest.raises(TypeError, match="Unsupported type"):
        t.add.enqueue(object(), 1)
    with pytest.raises(QueueNotFound):  # not even auto-created
        rsmq_for_queue("default").peek("default")


async def test_aenqueue_works_from_async_code(t: ModuleType) -> None:
    result = await t.add.aenqueue(1, 1)
    assert result.status == TaskResultStatus.READY
    assert _ids(rsmq_for_queue("default").peek("default")) == [result.id]


def test_run_after_becomes_the_message_delay(t: ModuleType) -> None:
    run_after = timezone.now() + timedelta(seconds=100)
    result = t.add.using(run_after=run_after).enqueue(1, 2)
    rsmq = rsmq_for_queue("default")
    [peeked] = rsmq.peek("default")
    assert peeked.id == result.id
    assert peeked.state == "delayed"
    assert abs(peeked.visible_at / 1000 - run_after.timestamp()) < 2
    assert peeked.body["run_after"] == run_after.isoformat()
    assert rsmq.receive("default") is None  # not before run_after


def test_run_after_in_the_past_is_sent_visible(t: ModuleType) -> None:
    t.add.using(run_after=timezone.now() - timedelta(hours=1)).enqueue(1, 2)
    [peeked] = rsmq_for_queue("default").peek("default")
    assert peeked.state == "visible"


def test_run_after_beyond_rsmq_max_delay_is_rejected(t: ModuleType) -> None:
    too_far = timezone.now() + timedelta(seconds=SECONDS_MAX + 60)
    with pytest.raises(InvalidTask, match="too far ahead"):
        t.add.using(run_after=too_far)
    ok = t.add.using(run_after=timezone.now() + timedelta(seconds=SECONDS_MAX - 60))
    ok.enqueue(1, 2)
    assert rsmq_for_queue("default").peek("default")[0].state == "delayed"


def test_naive_run_after_is_rejected_with_use_tz(t: ModuleType) -> None:
    with pytest.raises(InvalidTask, match="aware"):
        t.add.using(run_after=timezone.now().replace(tzinfo=None))


def test_priority_is_not_supported(t: ModuleType) -> None:
    with pytest.raises(InvalidTask, match="priority"):
        t.add.using(priority=10)


def test_queue_not_served_by_the_backend_is_rejected(t: ModuleType) -> None:
    with pytest.raises(InvalidTask, match="not valid for backend"):
        t.add.using(queue_name="emails")


def test_invalid_rsmq_queue_name_is_rejected(t: ModuleType) -> None:
    setting = {"default": {"BACKEND": BACKEND, "QUEUES": ["bad name!"]}}
    with override_settings(TASKS=setting):
        from django.tasks import task

        with pytest.raises(InvalidTask, match="not an RSMQ queue name"):
            task(queue_name="bad name!")(t.add.func)


def test_empty_queues_is_rejected_at_validation(t: ModuleType) -> None:
    empty = {"default": {"BACKEND": BACKEND, "QUEUES": []}}
    with (
        override_settings(TASKS=empty),
        pytest.raises(InvalidTask, match="QUEUES'\\] is empty"),
    ):
        t.add.using(queue_name="anything")


def test_override_settings_tasks_rewires_the_task_handlers(t: ModuleType) -> None:
    assert registry.get("default") is not None
    assert registry.get("default").name == RUN_TASK_NAME  # type: ignore[union-attr]
    assert registry.is_default("default")
    other = {"other": {"BACKEND": BACKEND, "QUEUES": ["emails-tasks"]}}
    with override_settings(TASKS=other):
        assert registry.get("emails-tasks").name == RUN_TASK_NAME  # type: ignore[union-attr]
        assert registry.get("default") is None
        backend = task_backends["other"]
        assert isinstance(backend, RSMQTaskBackend)
        assert backend.queues == {"emails-tasks"}
    assert registry.get("emails-tasks") is None
    assert registry.get("default").name == RUN_TASK_NAME  # type: ignore[union-attr]
    with override_settings(TASKS={}):
        assert registry.get("default") is None
        assert registry.get("tasks-flaky") is None


def test_a_user_handler_on_a_task_queue_wins_and_the_check_says_so(t: ModuleType) -> None:
    def mine(message: Message) -> None: ...

    try:
        handler("default")(mine)  # replaces the task handler, no error
        assert registry.get("default").func is mine  # type: ignore[union-attr]
        errors = [m for m in task_backends["default"].check() if m.id == "django_rsmq.E014"]
        assert len(errors) == 1
        assert "also has @handler" in errors[0].msg
        with override_settings(TASKS={}), override_settings(TASKS=TASKS):
            assert registry.get("default").func is mine  # type: ignore[union-attr]
    finally:
        registry.unregister("default")
    with override_settings(TASKS={}), override_settings(TASKS=TASKS):
        assert registry.get("default").name == RUN_TASK_NAME  # type: ignore[union-attr]


def test_check_is_clean_for_a_good_configuration() -> None:
    assert task_backends["default"].check() == []


def _check_ids(tasks: dict[str, Any]) -> list[tuple[str, str]]:
    with override_settings(TASKS=tasks):
        return [(m.id, m.msg) for m in task_backends["default"].check()]


def test_check_reports_bad_queues_options_and_undeclared_queues() -> None:
    empty = _check_ids({"default": {"BACKEND": BACKEND, "QUEUES": []}})
    assert [i for i, _ in empty] == ["django_rsmq.E013"]
    bad = _check_ids({"default": {"BACKEND": BACKEND, "QUEUES": ["ok-one", "bad name!"]}})
    assert (
        "django_rsmq.E013",
        "TASKS['default']['QUEUES'] names 'bad name!', which is not a valid RSMQ queue name",
    ) in bad
    assert [i for i, m in bad if "ok-one" in m] == ["django_rsmq.W015"]
    options = _check_ids({"default": {"BACKEND": BACKEND, "OPTIONS": {"RESULT_TTL": 5}}})
    assert ("django_rsmq.E016", "Unknown key 'RESULT_TTL' in TASKS['default']['OPTIONS']") in (
        options
    )


def test_check_knows_whether_an_undeclared_queue_can_be_auto_created(
    tasks_settings: dict[str, Any],
) -> None:
    tasks = {"default": {"BACKEND": BACKEND, "QUEUES": ["undeclared"]}}
    assert "created with QUEUE_DEFAULTS" in _check_ids(tasks)[0][1]
    no_auto = {**tasks_settings, "QUEUE_DEFAULTS": {"AUTO_CREATE": False}}
    with override_settings(RSMQ=no_auto):
        assert "must be created by hand" in _check_ids(tasks)[0][1]


def test_check_needs_django_rsmq_installed() -> None:
    from django.conf import settings

    apps_without = [a for a in settings.INSTALLED_APPS if a != "django_rsmq"]
    with override_settings(INSTALLED_APPS=apps_without):
        ids = [m.id for m in task_backends["default"].check()]
    assert ids == ["django_rsmq.E017"]


def test_djangos_check_framework_runs_the_backend_check() -> None:
    from django.core import checks

    with override_settings(TASKS={"default": {"BACKEND": BACKEND, "QUEUES": []}}):
        ids = [m.id for m in checks.run_checks()]
    assert "django_rsmq.E013" in ids


def test_undeclared_task_queue_is_not_also_reported_as_w001() -> None:
    from django_rsmq.checks import check_settings

    with override_settings(TASKS={"default": {"BACKEND": BACKEND, "QUEUES": ["undeclared"]}}):
        assert registry.get("undeclared") is not None
        assert [m.id for m in check_settings()] == []
