"""``MAX_IN_FLIGHT`` per queue reaches the engine (the auto-created queue holds the cap),
shows in ``stats.collect()`` and rsmq_stats' STATE column, and bad values are E004."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from django_rsmq import send
from django_rsmq.operations import queues, stats


def test_the_cap_reaches_the_queue_and_the_stats(rsmq_on_test_redis: dict[str, Any]) -> None:
    qs = {**rsmq_on_test_redis["QUEUES"], "capped": {"MAX_IN_FLIGHT": 3}}
    with override_settings(RSMQ={**rsmq_on_test_redis, "QUEUES": qs}):
        send("capped", "x")  # auto-creates the queue with its declared attributes
        assert queues.attributes("capped").max_in_flight == 3
        (row,) = stats.collect(["capped"]).queues
        assert row.max_in_flight == 3
        out = StringIO()
        call_command("rsmq_stats", "-q", "capped", stdout=out)
        assert "running, max 3 in flight" in out.getvalue()


@pytest.mark.parametrize("value", [0, -1, "5", True, 2.5])
def test_bad_caps_are_e004(rsmq_on_test_redis: dict[str, Any], value: Any) -> None:
    from django_rsmq.checks import check_settings

    qs = {**rsmq_on_test_redis["QUEUES"], "capped": {"MAX_IN_FLIGHT": value}}
    with override_settings(RSMQ={**rsmq_on_test_redis, "QUEUES": qs}):
        found = [m for m in check_settings() if m.id == "django_rsmq.E004"]
    assert len(found) == 1
    assert "MAX_IN_FLIGHT" in found[0].msg
