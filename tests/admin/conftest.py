"""Admin tests: the session Redis under a fresh namespace, a few queues, users with
chosen permissions, and helpers that put messages into a DLQ and the failed list."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, override_settings

from django_rsmq.connections import get_rsmq
from django_rsmq.engine import RSMQ
from django_rsmq.operations.queues import ensure_queue
from django_rsmq.testing import TestRedis
from tests.settings import rsmq_setting

ALL = (
    "view_queue",
    "requeue_message",
    "delete_message",
    "purge_queue",
    "change_queue_attributes",
    "send_message",
)

QUEUES = {
    "emails": {"VISIBILITY_TIMEOUT": 30, "MAX_RECEIVES": 2, "DEAD_LETTER_QUEUE": "emails-dlq"},
    "emails-dlq": {},
    "other": {},
}


@pytest.fixture(autouse=True)
def rsmq_on_test_redis(test_redis: TestRedis, namespace: str) -> Iterator[dict[str, Any]]:
    setting = rsmq_setting(test_redis.url, namespace, API_TOKEN="s3cret-token")
    setting["QUEUES"] = QUEUES
    with override_settings(RSMQ=setting):
        for name in QUEUES:
            ensure_queue(name)
        yield setting


@pytest.fixture
def engine() -> RSMQ:
    return get_rsmq()


@pytest.fixture
def make_user(django_user_model: Any, db: None) -> Callable[..., Any]:
    counter = iter(range(1000))

    def make(*perms: str, staff: bool = True) -> Any:
        user = django_user_model.objects.create_user(
            f"user{next(counter)}", password="pw", is_staff=staff
        )
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label="django_rsmq", codename__in=perms)
        )
        return user

    return make


@pytest.fixture
def client_for(make_user: Callable[..., Any]) -> Callable[..., Client]:
    """A logged-in client whose user has the given permissions (default: all)."""

    def make(*perms: str, csrf: bool = False, staff: bool = True) -> Client:
        client = Client(enforce_csrf_checks=csrf)
        client.force_login(make_user(*(perms or ALL), staff=staff))
        return client

    return make


def dead_letter(engine: RSMQ, body: Any, queue: str = "emails") -> str:
    """Send ``body`` to ``queue`` and fail it until it lands in the DLQ; its id.
    (Call it while ``queue`` has no other visible message.)"""
    mid = engine.send(queue, body)
    for _ in range(2):
        msg = engine.receive(queue, vt=0.001)
        assert msg is not None
        assert msg.id == mid
        engine.fail(msg, ValueError(f"boom {body!r}"), traceback="Traceback: boom")
    return mid


def failed_record(engine: RSMQ, body: Any, queue: str = "other") -> str:
    """A failure record on ``queue`` (its message is then deleted); the record id."""
    engine.send(queue, body)
    msg = engine.receive(queue)
    assert msg is not None
    result = engine.fail(msg, KeyError("missing"), traceback="Traceback: missing")
    engine.delete(queue, msg.id)
    return result.record_id
