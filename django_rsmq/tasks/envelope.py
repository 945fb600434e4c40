"""The body of a task message: what the worker needs to run one task.

::

    {"v": 1, "task": "myapp.tasks.send_welcome", "backend": "default",
     "args": [42], "kwargs": {}, "enqueued_at": "2025-01-31T12:00:00.123456+00:00",
     "run_after": null}

Plain JSON (through the queue's serializer), so any RSMQ client can enqueue a task.
No ``django.tasks`` import here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["RUN_TASK_NAME", "VERSION", "Envelope", "InvalidEnvelope"]

VERSION = 1

#: ``Handler.name`` of the handler that runs task messages
#: (:func:`django_rsmq.tasks.worker.run_task`)
RUN_TASK_NAME = "django_rsmq.tasks.worker.run_task"


class InvalidEnvelope(ValueError):
    """A message on a task queue that is not a task this version can run."""


def _datetime(body: dict[str, Any], key: str) -> datetime | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidEnvelope(f"{key!r} must be an ISO 8601 string or null, got {value!r}")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidEnvelope(f"{key!r} is not an ISO 8601 datetime: {value!r}") from exc


@dataclass(frozen=True)
class Envelope:
    task: str  # the Task's module path
    backend: str  # the TASKS alias it was enqueued through
    args: list[Any]
    kwargs: dict[str, Any]
    enqueued_at: datetime | None = None
    run_after: datetime | None = None

    def to_body(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "task": self.task,
            "backend": self.backend,
            "args": self.args,
            "kwargs": self.kwargs,
            "enqueued_at": None if self.enqueued_at is None else self.enqueued_at.isoformat(),
            "run_after": None if self.run_after is None else self.run_after.isoformat(),
        }

    @classmethod
    def from_body(cls, body: Any) -> Envelope:
        """Parse a decoded message body; raises :class:`InvalidEnvelope`."""
        if not isinstance(body, dict):
            raise InvalidEnvelope(f"a task message body must be a JSON object, got {body!r:.200}")
        if body.get("v") != VERSION:
            raise InvalidEnvelope(
                f"unsupported task message version {body.get('v')!r} (this worker runs {VERSION})"
            )
        task, backend = body.get("task"), body.get("backend")
        args, kwargs = body.get("args", []), body.get("kwargs", {})
        if not isinstance(task, str) or not task:
            raise InvalidEnvelope(f"'task' must be a module path, got {task!r}")
        if not isinstance(backend, str) or not backend:
            raise InvalidEnvelope(f"'backend' must be a TASKS alias, got {backend!r}")
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise InvalidEnvelope("'args' must be a list and 'kwargs' an object")
        return cls(
            task=task,
            backend=backend,
            args=args,
            kwargs=kwargs,
            enqueued_at=_datetime(body, "enqueued_at"),
            run_after=_datetime(body, "run_after"),
        )
