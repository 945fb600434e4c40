"""Django Tasks the tests enqueue (Django 6.0+ only: imported by tests/tasks/ alone).

Each records ``(name, args)`` in :data:`CALLS` so an in-process consumer's work can be
checked; the test settings' ``TASKS`` must be active when this module is imported,
since ``@task`` validates against the backend at decoration time.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from django.tasks import TaskContext, task

from django_rsmq import Discard, Snooze

CALLS: list[tuple[str, Any]] = []
_lock = threading.Lock()


def _record(name: str, value: Any) -> None:
    with _lock:
        CALLS.append((name, value))


@task
def add(a: int, b: int) -> int:
    _record("add", [a, b])
    return a + b


@task(queue_name="tasks-flaky")
def always_fails(reason: str) -> None:
    _record("always_fails", reason)
    raise ValueError(f"asked to fail: {reason}")


@task(takes_context=True)
def fails_once(context: TaskContext, word: str) -> dict[str, Any]:
    """Fails on the first attempt, then returns what the context said."""
    attempt = context.attempt
    _record("fails_once", attempt)
    if attempt == 1:
        raise RuntimeError("first attempt fails")
    return {"attempt": attempt, "id": context.task_result.id, "word": word}


@task
async def async_double(n: int) -> int:
    await asyncio.sleep(0)
    _record("async_double", n)
    return n * 2


@task
def returns_object() -> object:
    """Returns something that is not JSON: the attempt fails."""
    return object()


@task(takes_context=True)
def snoozes_once(context: TaskContext) -> int:
    """Snoozes its first attempt (a handler outcome), then returns the attempt."""
    _record("snoozes_once", context.attempt)
    if context.attempt == 1:
        raise Snooze(delay=0)
    return context.attempt


@task(queue_name="tasks-flaky")
def discards(reason: str) -> None:
    _record("discards", reason)
    raise Discard(reason)
