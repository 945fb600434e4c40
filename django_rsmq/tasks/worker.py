"""The worker side: the handler ``rsmq_consume`` runs for every task queue.

:func:`run_task` is registered for each queue a ``RSMQTaskBackend`` serves (see
:mod:`.registration`). For one message it does what every Django Tasks worker does:
``RUNNING`` + ``task_started``, ``Task.call`` (with a ``TaskContext`` when the task
takes one), then ``SUCCESSFUL`` or ``FAILED`` + ``task_finished``. A failing task's
exception propagates, so the consumer records the failure and the queue's ``RETRY``,
``MAX_RECEIVES`` and dead-letter queue apply; a body that is not a task envelope, an
unknown backend alias or a module path that is not a ``Task`` fail the same way.

A task may raise the handler outcomes (django_rsmq/outcomes.py). ``Retry``,
``DeadLetter`` and ``Discard`` end this attempt as ``FAILED`` (+ ``task_finished``), as
any exception does (Django Tasks has no retried or discarded status), and the consumer
applies them. ``Snooze`` is not an outcome of the task: no ``task_finished``, the
result goes back to ``READY`` and the task runs again after the delay.
"""

from __future__ import annotations

import os
import socket
from traceback import format_exception
from typing import Any

from django.dispatch import receiver
from django.tasks import Task, TaskContext, TaskResult, TaskResultStatus, task_backends
from django.tasks.base import TaskError
from django.tasks.exceptions import InvalidTaskBackend
from django.tasks.signals import task_finished, task_started
from django.utils import timezone
from django.utils.json import normalize_json
from django.utils.module_loading import import_string

from .. import signals
from ..engine.message import Message
from ..outcomes import Snooze
from .backend import RSMQTaskBackend
from .envelope import Envelope, InvalidEnvelope

__all__ = ["UNKNOWN_WORKER", "run_task", "worker_id"]

#: ``worker_ids`` entry for an earlier delivery (results are not stored, so who ran it
#: is not known; the list still has one entry per delivery, so ``attempts == rc``)
UNKNOWN_WORKER = "unknown"

_consumer_name: str | None = None


@receiver(signals.consumer_started)
def _consumer_started(*, consumer: Any, **kwargs: Any) -> None:
    global _consumer_name
    _consumer_name = str(consumer.name)


@receiver(signals.consumer_stopped)
def _consumer_stopped(**kwargs: Any) -> None:
    global _consumer_name
    _consumer_name = None


def worker_id() -> str:
    """The running consumer's name (``--name``), else ``<host>.<pid>`` (``drain()``)."""
    return _consumer_name or f"{socket.gethostname()}.{os.getpid()}"


def _backend(alias: str) -> RSMQTaskBackend:
    try:
        backend = task_backends[alias]
    except InvalidTaskBackend as exc:
        raise InvalidEnvelope(f"no TASKS backend {alias!r} in this process: {exc}") from exc
    if not isinstance(backend, RSMQTaskBackend):
        raise InvalidEnvelope(f"TASKS[{alias!r}] is {type(backend).__name__}, not RSMQTaskBackend")
    return backend


def _restore(path: str, **fields: Any) -> Task[..., Any]:
    """The ``Task`` at ``path`` with the enqueued copy's fields, not validated again
    (a settings change since the enqueue must not make a queued task unrunnable)."""
    try:
        found = import_string(path)
    except ImportError as exc:
        raise InvalidEnvelope(f"cannot import task {path!r}: {exc}") from exc
    if not isinstance(found, Task):
        raise InvalidEnvelope(f"{path!r} is not a Task (decorate it with @task)")
    restored: Task[..., Any] = object.__new__(type(found))
    for name in type(found).__dataclass_fields__:
        object.__setattr__(restored, name, fields.get(name, getattr(found, name)))
    return restored


def _error(exc: BaseException) -> TaskError:
    cls = type(exc)
    return TaskError(
        exception_class_path=f"{cls.__module__}.{cls.__qualname__}",
        traceback="".join(format_exception(exc)),
    )


def run_task(message: Message) -> None:
    """Run the task in ``message``; raise its exception (or a bad envelope's)."""
    envelope = Envelope.from_body(message.body)
    backend = _backend(envelope.backend)
    task = _restore(
        envelope.task,
        queue_name=message.queue,
        backend=envelope.backend,
        run_after=envelope.run_after,
    )
    started_at = timezone.now()
    result: TaskResult[..., Any] = TaskResult(
        task=task,
        id=message.id,
        status=TaskResultStatus.RUNNING,
        enqueued_at=envelope.enqueued_at,
        started_at=started_at,
        finished_at=None,
        last_attempted_at=started_at,
        args=envelope.args,
        kwargs=envelope.kwargs,
        backend=envelope.backend,
        errors=[],
        worker_ids=[UNKNOWN_WORKER] * (max(message.rc, 1) - 1) + [worker_id()],
    )
    sender = type(backend)
    task_started.send(sender, task_result=result)
    try:
        if task.takes_context:
            value = task.call(TaskContext(task_result=result), *result.args, **result.kwargs)
        else:
            value = task.call(*result.args, **result.kwargs)
        object.__setattr__(result, "_return_value", normalize_json(value))
    except KeyboardInterrupt:
        raise
    except Snooze:
        object.__setattr__(result, "status", TaskResultStatus.READY)
        raise
    except BaseException as exc:
        object.__setattr__(result, "finished_at", timezone.now())
        result.errors.append(_error(exc))
        object.__setattr__(result, "status", TaskResultStatus.FAILED)
        task_finished.send(sender, task_result=result)
        raise
    object.__setattr__(result, "finished_at", timezone.now())
    object.__setattr__(result, "status", TaskResultStatus.SUCCESSFUL)
    task_finished.send(sender, task_result=result)
