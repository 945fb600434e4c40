"""``DURABLE`` per queue and ``send(..., durable=N)`` per call reach the engine."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from django_rsmq import send
from django_rsmq.conf import rsmq_settings
from django_rsmq.engine import SendNotConfirmed


def test_a_durable_queue_waits_for_replicas(rsmq_on_test_redis: dict[str, Any]) -> None:
    qs = {**rsmq_on_test_redis["QUEUES"], "safe": {"DURABLE": 1, "DURABLE_TIMEOUT": 0.05}}
    with override_settings(RSMQ={**rsmq_on_test_redis, "QUEUES": qs}):
        assert rsmq_settings().queue("safe").durable == 1
        with pytest.raises(SendNotConfirmed) as caught:  # the test server has no replica
            send("safe", "x")
        assert caught.value.message_id is not None
        assert send("safe", "y", durable=0)  # per call: not durable


def test_send_durable_per_call() -> None:
    with pytest.raises(SendNotConfirmed):
        send("work", "x", durable=1)


@pytest.mark.parametrize(
    ("key", "value"),
    [("DURABLE", -1), ("DURABLE", True), ("DURABLE", "1"), ("DURABLE_TIMEOUT", 0)],
)
def test_bad_durable_settings_are_e004(
    rsmq_on_test_redis: dict[str, Any], key: str, value: Any
) -> None:
    from django_rsmq.checks import check_settings

    qs = {**rsmq_on_test_redis["QUEUES"], "safe": {key: value}}
    with override_settings(RSMQ={**rsmq_on_test_redis, "QUEUES": qs}):
        found = [m for m in check_settings() if m.id == "django_rsmq.E004"]
    assert len(found) == 1
    assert key in found[0].msg
