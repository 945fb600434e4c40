"""``RSMQTaskBackend``: Django Tasks enqueued as RSMQ messages (Django 6.0+).

``enqueue`` sends one message (an :class:`~.envelope.Envelope`) to the RSMQ queue named
by the task's ``queue_name`` through :func:`django_rsmq.send`, so queues are created,
signalled and (with ``RSMQ["EAGER"]``) run exactly as for any other message. The
worker side is :mod:`django_rsmq.tasks.worker`, run by ``rsmq_consume``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from django.apps import apps
from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import ImproperlyConfigured
from django.tasks import Task, TaskResult, TaskResultStatus
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.exceptions import InvalidTask
from django.tasks.signals import task_enqueued
from django.utils import timezone
from django.utils.json import normalize_json

from ..conf import RSMQSettings, rsmq_settings
from ..engine.errors import InvalidName
from ..engine.validation import SECONDS_MAX, check_qname
from ..handlers import registry
from ..producer import send
from .envelope import RUN_TASK_NAME, Envelope

__all__ = ["OPTION_KEYS", "RSMQTaskBackend", "seconds_until"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: keys ``TASKS[alias]["OPTIONS"]`` accepts (none yet; a typo is ``django_rsmq.E016``)
OPTION_KEYS: frozenset[str] = frozenset()


def seconds_until(when: datetime) -> float:
    """Seconds from now until ``when`` (0 if it is past), in ``when``'s own time zone
    (naive means local time, as Django uses it with ``USE_TZ = False``)."""
    now = datetime.now(when.tzinfo) if timezone.is_aware(when) else datetime.now()
    return max(0.0, (when - now).total_seconds())


class RSMQTaskBackend(BaseTaskBackend):
    """Runs ``@task`` functions on django-rsmq queues (``TASKS[alias]["BACKEND"]``).

    - ``run_after`` becomes the message's delay (at most 9,999,999 s ahead).
    - ``async def`` tasks are run by the consumer (``Task.call``).
    - ``priority`` other than 0 is rejected (RSMQ queues are FIFO).
    - Results are not stored: ``get_result`` raises ``NotImplementedError``; the
      ``task_started`` / ``task_finished`` signals carry each attempt's outcome.
    """

    supports_defer = True
    supports_async_task = True
    supports_get_result = False
    supports_priority = False

    def validate_task(self, task: Task[..., Any]) -> None:
        super().validate_task(task)
        if not self.queues:
            raise InvalidTask(
                f"TASKS[{self.alias!r}]['QUEUES'] is empty: list the RSMQ queues this "
                "backend serves"
            )
        try:
            check_qname(task.queue_name)
        except InvalidName as exc:
            raise InvalidTask(
                f"Queue {task.queue_name!r} is not an RSMQ queue name: {exc}"
            ) from exc
        if task.run_after is not None and seconds_until(task.run_after) > SECONDS_MAX:
            raise InvalidTask(
                f"run_after {task.run_after.isoformat()} is too far ahead: RSMQ delays a "
                f"message at most {SECONDS_MAX:,} seconds (about 115 days)"
            )

    def enqueue(
        self, task: Task[_P, _R], args: list[Any], kwargs: dict[str, Any]
    ) -> TaskResult[_P, _R]:
        """Send the task to its queue now; the result is ``READY``, its ``id`` the
        message id. Raises ``InvalidTask``, ``TypeError``/``ValueError`` (arguments that
        are not JSON), or the engine's errors from :func:`django_rsmq.send`."""
        self.validate_task(task)
        json_args: list[Any] = normalize_json(args)  # type: ignore[assignment]
        json_kwargs: dict[str, Any] = normalize_json(kwargs)  # type: ignore[assignment]
        enqueued_at = timezone.now()
        envelope = Envelope(
            task=task.module_path,
            backend=self.alias,
            args=json_args,
            kwargs=json_kwargs,
            enqueued_at=enqueued_at,
            run_after=task.run_after,
        )
        delay = None if task.run_after is None else seconds_until(task.run_after)
        message_id = send(task.queue_name, envelope.to_body(), delay=delay)
        result: TaskResult[_P, _R] = TaskResult(
            task=task,
            id=message_id,
            status=TaskResultStatus.READY,
            enqueued_at=enqueued_at,
            started_at=None,
            finished_at=None,
            last_attempted_at=None,
            args=json_args,
            kwargs=json_kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        task_enqueued.send(type(self), task_result=result)
        return result

    # -- system checks ------------------------------------------------------------------

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        return list(self._check_messages())

    def _check_messages(self) -> Iterable[CheckMessage]:
        where = f"TASKS[{self.alias!r}]"
        if not apps.is_installed("django_rsmq"):
            yield Error(
                f"{where} uses RSMQTaskBackend but 'django_rsmq' is not in INSTALLED_APPS",
                hint="Add 'django_rsmq' to INSTALLED_APPS so rsmq_consume runs the tasks",
                obj=where,
                id="django_rsmq.E017",
            )
        for key in sorted(set(self.options) - OPTION_KEYS):
            yield Error(
                f"Unknown key {key!r} in {where}['OPTIONS']",
                hint="RSMQTaskBackend takes no OPTIONS yet (queue behaviour is set per "
                "queue in RSMQ['QUEUES'])",
                obj=where,
                id="django_rsmq.E016",
            )
        if not self.queues:
            yield Error(
                f"{where}['QUEUES'] is empty",
                hint="List the RSMQ queues the backend serves; each gets a task handler",
                obj=where,
                id="django_rsmq.E013",
            )
        try:
            cfg: RSMQSettings | None = rsmq_settings()
        except (ImproperlyConfigured, TypeError, ValueError):
            cfg = None  # django_rsmq.E001 reports it
        for name in sorted(self.queues):
            yield from self._queue_messages(where, name, cfg)

    def _queue_messages(
        self, where: str, name: str, cfg: RSMQSettings | None
    ) -> Iterable[CheckMessage]:
        try:
            check_qname(name)
        except InvalidName:
            yield Error(
                f"{where}['QUEUES'] names {name!r}, which is not a valid RSMQ queue name",
                hint="1 to 160 characters from A-Z a-z 0-9 _ -",
                obj=where,
                id="django_rsmq.E013",
            )
            return
        h = registry.get(name)
        if h is not None and h.name != RUN_TASK_NAME:
            yield Error(
                f"Queue {name!r} is served by {where} and also has @handler {h.name}: "
                "one handler per queue, so its task messages would go to that handler",
                hint="Give tasks and @handlers separate queues",
                obj=where,
                id="django_rsmq.E014",
            )
        if cfg is not None and name not in cfg.queues:
            created = (
                "is created with QUEUE_DEFAULTS on first use"
                if cfg.queue(name).auto_create
                else "must be created by hand (QUEUE_DEFAULTS has AUTO_CREATE False)"
            )
            yield Warning(
                f"Queue {name!r} is served by {where} but not declared in RSMQ['QUEUES']: "
                f"it {created}, and `rsmq_consume` without queue names skips it",
                hint="Declare it (with RETRY / MAX_RECEIVES for failing tasks)",
                obj=where,
                id="django_rsmq.W015",
            )
